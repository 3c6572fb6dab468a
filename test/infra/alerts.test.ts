// The Kusto language service (Microsoft's KQL parser and analyser, compiled to JS) sets globals.
import '@kusto/language-service-next/bridge.js';
import '@kusto/language-service-next';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { PredictedResource } from './compiler';
import { REPO_ROOT, at, snapshot } from './compiler';
import { memoryLogger } from '../../src/observability/logger';
import type * as FunctionsCoreModule from '../../dev/localHost/functionsCore';

/**
 * The alerts as ARM would deploy them (bicep snapshot), held against the code: every event a query
 * reads is one the app logs, in the form it logs it; every table a query reads exists in Application
 * Insights with the columns used (checked by the Kusto language service); host.json does not sample
 * away what the queries count; and thresholds and notifications are wired.
 */

type FunctionsCore = typeof FunctionsCoreModule;

interface KustoDiagnostic {
  Message: string;
  Severity: string;
}
interface KustoList<T> {
  Count: number;
  getItem(i: number): T;
}
const Kusto = (globalThis as unknown as { Kusto: { Language: Record<string, any> } }).Kusto.Language; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The Application Insights tables the queries may read, with the columns of its classic schema. */
const APP_INSIGHTS_TABLES: Record<string, string> = {
  traces:
    '(timestamp:datetime, message:string, severityLevel:int, itemType:string, customDimensions:dynamic, operation_Name:string, operation_Id:string, operation_ParentId:string, cloud_RoleName:string, cloud_RoleInstance:string, appName:string, itemCount:int)',
  requests:
    '(timestamp:datetime, id:string, name:string, url:string, success:bool, resultCode:string, duration:real, performanceBucket:string, itemType:string, customDimensions:dynamic, operation_Name:string, operation_Id:string, operation_ParentId:string, cloud_RoleName:string, cloud_RoleInstance:string, appName:string, itemCount:int)',
  customEvents:
    '(timestamp:datetime, name:string, itemType:string, customDimensions:dynamic, operation_Name:string, operation_Id:string, cloud_RoleName:string, cloud_RoleInstance:string, appName:string, itemCount:int)',
};

const globals = (() => {
  const S = Kusto.Symbols;
  const tables = Object.entries(APP_INSIGHTS_TABLES).map(([name, schema]) =>
    S.TableSymbol.From(schema).WithName(name),
  );
  return Kusto.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.ctor('appinsights', tables));
})();

/** Syntax and semantic errors of a query against the Application Insights schema above. */
function kqlProblems(query: string): string[] {
  const list = Kusto.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics() as KustoList<KustoDiagnostic>;
  return Array.from({ length: list.Count }, (_, i) => list.getItem(i)).map((d) => d.Message);
}

/** Event names the code passes to logger.event(...), read from src/ now, not copied. */
/**
 * Event names the code logs: the names of the logger's `OperationalEvent` type (the only names
 * `logger.event()` accepts) that some other source file writes as a string literal, whether in a
 * direct `.event('Name')` call or in a table of names it logs from.
 */
function loggedEventNames(): Set<string> {
  const loggerFile = path.join(REPO_ROOT, 'src/observability/logger.ts');
  const declaration = /export type OperationalEvent =([^;]*);/.exec(readFileSync(loggerFile, 'utf8'));
  if (!declaration) throw new Error('src/observability/logger.ts declares no OperationalEvent type');
  const declared = [...declaration[1].matchAll(/'(\w+)'/g)].map((m) => m[1]);
  const literals = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && full !== loggerFile)
        for (const m of readFileSync(full, 'utf8').matchAll(/'(\w+)'/g)) literals.add(m[1]);
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  return new Set(declared.filter((name) => literals.has(name)));
}

function registeredTimers(): string[] {
  let timers: string[] = [];
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = require('../../dev/localHost/functionsCore') as FunctionsCore;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../../src/index');
    timers = core
      .registeredFunctions()
      .filter((fn) => core.triggerOf(fn).type === 'timerTrigger')
      .map((fn) => fn.name);
  });
  return timers.sort();
}

// Each compiler run starts a .NET process (1-3 s alone, several times that on a loaded 2-core machine).
jest.setTimeout(120_000);

const EMAIL = 'operator@example.com';
const deployed = snapshot({ alertEmailAddress: EMAIL, staleAfterMinutes: 90 });
const rules = deployed.ofType('Microsoft.Insights/scheduledQueryRules');
const query = (rule: PredictedResource): string => String(at(rule, 'properties.criteria.allOf.0.query'));
const criteria = (rule: PredictedResource) =>
  at(rule, 'properties.criteria.allOf.0') as Record<string, unknown>;
/** Event names a query reads: those in its `dynamic([...])` list and those it matches as `event=<Name>`. */
const eventsRead = (rule: PredictedResource): string[] => {
  const q = query(rule);
  const listed = /dynamic\((\[[^\]]*\])\)/.exec(q);
  const fromList = listed && q.includes('EventName in') ? (JSON.parse(listed[1]) as string[]) : [];
  return [...fromList, ...[...q.matchAll(/"event=(\w+)"/g)].map((m) => m[1])];
};
const ruleReading = (event: string) => rules.filter((r) => eventsRead(r).includes(event));
const minutes = (iso: unknown): number => {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(String(iso));
  if (!m) throw new Error(`not an ISO duration: ${String(iso)}`);
  return Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
};

describe('alert queries against the code', () => {
  const logged = loggedEventNames();

  test('the code logs the events the alerts are about', () => {
    for (const name of [
      'SnapshotRunFailed',
      'SnapshotRunSucceeded',
      'RefreshTokenRejected',
      'RefreshTokenPersistFailed',
    ])
      expect(logged).toContain(name);
  });

  test('every event name a query reads is one the code logs', () => {
    const read = rules.flatMap(eventsRead);
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((name) => !logged.has(name))).toEqual([]);
  });

  test.each(rules.map((r) => [r.name, r] as const))(
    '%s: the query parses and names only Application Insights tables and columns',
    (_, rule) => {
      expect(kqlProblems(query(rule))).toEqual([]);
    },
  );

  test('the Kusto check itself catches a misspelt column and an unknown table', () => {
    expect(kqlProblems('traces | where mesage startswith "event="')).not.toEqual([]);
    expect(kqlProblems('customEvent | take 1')).not.toEqual([]);
    expect(kqlProblems('traces | whre message')).not.toEqual([]);
  });

  test.each(['SnapshotRunFailed', 'RefreshTokenPersistFailed', 'RefreshTokenRejected'])(
    'the line the logger writes for %s is matched and named by the query that alerts on it',
    (event) => {
      const logger = memoryLogger();
      logger.event(event as Parameters<typeof logger.event>[0], { runId: 'r1' });
      const message = logger.lines[0].replace(/^\w+: /, ''); // the level is the trace's severity, not its text
      const [rule] = ruleReading(event);
      expect(rule).toBeDefined();
      const q = query(rule);
      const prefix = /message startswith "([^"]+)"/.exec(q)?.[1] ?? '';
      expect(message.startsWith(prefix)).toBe(true);
      // The query's own extract() pattern, run on the logged line, yields the event name.
      const pattern = /extract\(@"([^"]+)", 1, message\)/.exec(q)?.[1];
      expect(pattern).toBeDefined();
      expect(new RegExp(String(pattern)).exec(message)?.[1]).toBe(event);
    },
  );

  test('the timer alert watches exactly the timer functions the app registers', () => {
    const rule = rules.find((r) => /\brequests\b/.test(query(r)));
    const timers = JSON.parse(
      /dynamic\((\[[^\]]*\])\)/.exec(query(rule as PredictedResource))?.[1] ?? '[]',
    ) as string[];
    expect(timers.sort()).toEqual(registeredTimers());
    expect(query(rule as PredictedResource)).toMatch(/where success == false/);
  });
});

describe('alert rules', () => {
  test('there is one for a failed run, a failed timer, a token not stored, and stale data', () => {
    expect(ruleReading('SnapshotRunFailed')).toHaveLength(1);
    expect(ruleReading('RefreshTokenPersistFailed')).toHaveLength(1);
    expect(ruleReading('SnapshotRunSucceeded')).toHaveLength(1);
    expect(rules.filter((r) => /\brequests\b/.test(query(r)))).toHaveLength(1);
    expect(rules).toHaveLength(4);
  });

  test.each(rules.map((r) => [r.name, r] as const))(
    '%s is an enabled log alert on Application Insights',
    (_, rule) => {
      expect(rule.kind).toBe('LogAlert');
      expect(at(rule, 'properties.enabled')).toBe(true);
      expect(at(rule, 'properties.scopes')).toEqual([deployed.only('Microsoft.Insights/components').id]);
      expect(at(rule, 'properties.skipQueryValidation')).not.toBe(true);
      expect(minutes(at(rule, 'properties.windowSize'))).toBeGreaterThanOrEqual(
        minutes(at(rule, 'properties.evaluationFrequency')),
      );
    },
  );

  test.each(
    rules.filter((r) => !eventsRead(r).includes('SnapshotRunSucceeded')).map((r) => [r.name, r] as const),
  )('%s fires on the first occurrence, per event or function', (_, rule) => {
    expect(criteria(rule)).toMatchObject({ timeAggregation: 'Count', operator: 'GreaterThan', threshold: 0 });
    const dimension = at(criteria(rule), 'dimensions.0.name');
    expect(['EventName', 'FunctionName']).toContain(dimension);
    expect(query(rule)).toMatch(new RegExp(`\\b${String(dimension)}\\b`));
  });

  test('the stale alert fires when no run succeeded within STALE_AFTER_MINUTES, the same value the app gets', () => {
    const [rule] = ruleReading('SnapshotRunSucceeded');
    expect(criteria(rule)).toMatchObject({ timeAggregation: 'Count', operator: 'LessThan', threshold: 1 });
    expect(query(rule)).toMatch(/where timestamp > ago\(90m\)/);
    expect(minutes(at(rule, 'properties.windowSize'))).toBeGreaterThanOrEqual(90);
    expect(at(rule, 'properties.autoMitigate')).toBe(true);
    const settings = at(deployed.only('Microsoft.Web/sites'), 'properties.siteConfig.appSettings') as {
      name: string;
      value: string;
    }[];
    expect(settings.find((s) => s.name === 'STALE_AFTER_MINUTES')?.value).toBe('90');
  });

  test('the stale threshold defaults to the app default, 720 minutes', () => {
    const [rule] = snapshot()
      .ofType('Microsoft.Insights/scheduledQueryRules')
      .filter((r) => eventsRead(r).includes('SnapshotRunSucceeded'));
    expect(query(rule)).toMatch(/ago\(720m\)/);
  });

  test('with an email address, every rule notifies the one action group that mails it', () => {
    const group = deployed.only('Microsoft.Insights/actionGroups');
    expect(at(group, 'properties.emailReceivers.0.emailAddress')).toBe(EMAIL);
    for (const rule of rules) expect(at(rule, 'properties.actions.actionGroups')).toEqual([group.id]);
  });

  test('without one, there is no action group and the rules fire in the portal only', () => {
    const quiet = snapshot();
    expect(quiet.ofType('Microsoft.Insights/actionGroups')).toEqual([]);
    const quietRules = quiet.ofType('Microsoft.Insights/scheduledQueryRules');
    expect(quietRules).toHaveLength(rules.length);
    for (const rule of quietRules) expect(at(rule, 'properties.actions.actionGroups')).toEqual([]);
  });
});

describe('host.json sampling', () => {
  const host = JSON.parse(readFileSync(path.join(REPO_ROOT, 'host.json'), 'utf8')) as {
    logging: { applicationInsights: { samplingSettings: { isEnabled: boolean; excludedTypes?: string } } };
  };
  const TELEMETRY_TYPE: Record<string, string> = {
    traces: 'Trace',
    requests: 'Request',
    customEvents: 'Event',
  };

  test('never samples away the telemetry an alert counts', () => {
    const sampling = host.logging.applicationInsights.samplingSettings;
    const excluded = (sampling.excludedTypes ?? '').split(';');
    const read = new Set(
      rules.flatMap((r) =>
        Object.keys(TELEMETRY_TYPE).filter((table) => new RegExp(`^${table}$`, 'm').test(query(r))),
      ),
    );
    expect([...read].sort()).toEqual(['requests', 'traces']);
    if (sampling.isEnabled) for (const table of read) expect(excluded).toContain(TELEMETRY_TYPE[table]);
  });
});

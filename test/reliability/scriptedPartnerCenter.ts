import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/observability/logger';
import type { TokenProvider } from '../../src/partnerCenter/auth';
import { createPartnerCenterClient } from '../../src/partnerCenter/client';
import type { SnapshotPartnerCenter } from '../../src/snapshot/customerSnapshot';
import { FAST_RETRY, settingsFor } from '../partnerCenter/harness';

/**
 * A scripted Partner Center on loopback: it serves exactly the JSON a test gives it, on the
 * sandbox's paths (dev/sandbox/api.ts), paged with `links.next` and an MS-ContinuationToken
 * header as Partner Center pages. Unlike the sandbox it generates nothing, so a test can hand the
 * snapshot hostile but contract-shaped data: huge strings, unusual Unicode, deep unknown fields,
 * numbers with thousands of digits (`{ $number: '…' }` is written as that raw JSON number).
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ScriptedSubscription {
  /** The subscription's usage record as sent. */
  record: Json;
  /** Its resources' usage records as sent (a legacy Azure subscription's breakdown). */
  resources?: Json[];
  /** Its own usage summary as sent; undefined answers 404 "no usage data". */
  summary?: Json;
  /** An Azure plan's meter records, resource records and Azure subscriptions, as sent. */
  meters?: Json[];
  planResources?: Json[];
  entitlements?: Json[];
}

export interface ScriptedCustomer {
  /** Its row of the customers list, as sent. */
  record: Json;
  /** Its usage summary as sent; undefined answers 404 "no usage data". */
  summary?: Json;
  subscriptions: ScriptedSubscription[];
}

export interface ScriptedTenant {
  partner: Json;
  customers: ScriptedCustomer[];
}

export interface ScriptedPartnerCenter {
  readonly baseUrl: string;
  /** Replaces what is served from now on. */
  serve(tenant: ScriptedTenant): void;
  /**
   * Answers `status` (a Partner Center error body) to every request whose path matches, while set.
   * Returns its removal.
   */
  fail(pathPattern: RegExp, status: number): () => void;
  /** Requests served so far, by path. */
  readonly requests: string[];
  /** The real Partner Center client pointed at this server, with a fixed access token. */
  client(): SnapshotPartnerCenter;
  close(): Promise<void>;
}

const PAGE_SIZE = 100;

/** Serialises `value` as JSON, writing `{ $number: "123…" }` as the raw number `123…`. */
export function rawJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(rawJson).join(',')}]`;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === '$number' && typeof value.$number === 'string') return value.$number;
  return `{${keys.map((k) => `${JSON.stringify(k)}:${rawJson(value[k])}`).join(',')}}`;
}

/** A JSON number written as exactly this text. */
export const num = (text: string): Json => ({ $number: text });

export async function startScriptedPartnerCenter(initial: ScriptedTenant): Promise<ScriptedPartnerCenter> {
  let tenant = initial;
  const failures = new Set<{ pattern: RegExp; status: number }>();
  const requests: string[] = [];

  const collection = (items: Json[], path: string, seek: number) => {
    const page = items.slice(seek, seek + PAGE_SIZE);
    const more = seek + PAGE_SIZE < items.length;
    const next = more
      ? {
          uri: `${path}?size=${PAGE_SIZE}&seekOperation=Next`,
          method: 'GET',
          headers: [{ key: 'MS-ContinuationToken', value: String(seek + PAGE_SIZE) }],
        }
      : null;
    return `{"totalCount":${page.length},"items":${rawJson(page)},"links":{"next":${JSON.stringify(next)}},"attributes":{"objectType":"Collection"}}`;
  };
  const idOf = (record: Json) => {
    const r = record as Record<string, Json>;
    return String(r.id ?? r.resourceId ?? '').toLowerCase();
  };
  const customer = (id: string) => tenant.customers.find((c) => idOf(c.record) === id.toLowerCase());
  const pcError = (status: number, code: number, description: string) => ({
    status,
    body: JSON.stringify({ code, description, errorName: 'Error', data: [], source: 'PartnerCenter' }),
  });

  const route = (path: string, seek: number): { status: number; body: string } => {
    let m: RegExpExecArray | null;
    if (/^\/v1\/usagesummary$/i.test(path)) return { status: 200, body: rawJson(tenant.partner) };
    if (/^\/v1\/customers\/usagerecords$/i.test(path))
      return {
        status: 200,
        body: collection(
          tenant.customers.map((c) => c.record),
          '/customers/usagerecords',
          seek,
        ),
      };
    if ((m = /^\/v1\/customers\/([^/]+)\/usagesummary$/i.exec(path))) {
      const c = customer(decodeURIComponent(m[1]));
      if (!c) return pcError(404, 600, 'Customer not found');
      if (c.summary === undefined) return pcError(404, 3000, 'Customer does not have usage data.');
      return { status: 200, body: rawJson(c.summary) };
    }
    if ((m = /^\/v1\/customers\/([^/]+)\/subscriptions\/usagerecords$/i.exec(path))) {
      const c = customer(decodeURIComponent(m[1]));
      if (!c) return pcError(404, 600, 'Customer not found');
      const sub = `/customers/${m[1]}/subscriptions/usagerecords`;
      return {
        status: 200,
        body: collection(
          c.subscriptions.map((s) => s.record),
          sub,
          seek,
        ),
      };
    }
    if ((m = /^\/v1\/customers\/([^/]+)\/subscriptions\/([^/]+)\/usagerecords\/resources$/i.exec(path))) {
      const c = customer(decodeURIComponent(m[1]));
      const s = c?.subscriptions.find((x) => idOf(x.record) === decodeURIComponent(m![2]).toLowerCase());
      if (!c || !s) return pcError(404, 600, 'Subscription not found');
      const res = `/customers/${m[1]}/subscriptions/${m[2]}/usagerecords/resources`;
      return { status: 200, body: collection(s.resources ?? [], res, seek) };
    }
    if ((m = /^\/v1\/customers\/([^/]+)\/subscriptions\/([^/]+)\/([a-z]+)$/i.exec(path))) {
      const c = customer(decodeURIComponent(m[1]));
      const s = c?.subscriptions.find((x) => idOf(x.record) === decodeURIComponent(m![2]).toLowerCase());
      if (!c || !s) return pcError(404, 600, 'Subscription not found');
      const here = `/customers/${m[1]}/subscriptions/${m[2]}/${m[3]}`;
      const detail = m[3].toLowerCase();
      if (detail === 'usagesummary')
        return s.summary === undefined
          ? pcError(404, 3000, 'Subscription does not have usage data.')
          : { status: 200, body: rawJson(s.summary) };
      if (detail === 'meterusagerecords')
        return { status: 200, body: collection(s.meters ?? [], here, seek) };
      if (detail === 'resourceusagerecords')
        return { status: 200, body: collection(s.planResources ?? [], here, seek) };
      if (detail === 'azureentitlements')
        return { status: 200, body: collection(s.entitlements ?? [], here, seek) };
    }
    return pcError(404, 404, 'No such route');
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/$/, '');
    requests.push(path);
    const failure = [...failures].find((f) => f.pattern.test(path));
    const answer = failure
      ? pcError(failure.status, failure.status, 'Scripted failure')
      : route(path, Number(req.headers['ms-continuationtoken'] ?? 0) || 0);
    res.writeHead(answer.status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(answer.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokens: TokenProvider = { getAccessToken: async () => 'scripted-access-token', invalidate: () => {} };
  return {
    baseUrl,
    requests,
    serve: (next) => {
      tenant = next;
    },
    fail: (pattern, status) => {
      const entry = { pattern, status };
      failures.add(entry);
      return () => failures.delete(entry);
    },
    client: () => {
      const settings = settingsFor(
        { baseUrl, credentials: { tenantId: 'scripted', clientId: 'scripted' } } as Parameters<
          typeof settingsFor
        >[0],
        { maxConcurrency: 16, maxRetries: 1, timeoutMs: 10_000 },
      );
      return createPartnerCenterClient({
        settings,
        tokens,
        logger: createLogger(() => undefined),
        retry: FAST_RETRY,
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A GUID from a number, as Partner Center ids are. */
export const pcGuid = (n: number, salt = 0) =>
  `${(salt * 1_000_003 + n).toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const BILLING = { billingStartDate: '2025-03-01T00:00:00Z', billingEndDate: '2025-04-01T00:00:00Z' };

/** A plain, valid tenant: `customers` customers, each with `subscriptions` legacy Azure subscriptions. */
export function plainTenant(
  customers: number,
  subscriptions = 2,
  resources = 2,
  total = '10.5',
): ScriptedTenant {
  return {
    partner: {
      id: pcGuid(1, 99),
      name: 'Scripted partner',
      customersOverBudget: num('0'),
      customersTrendingOver: num('0'),
      customersWithUsageBasedSubscription: num(String(customers)),
      ...BILLING,
      totalCost: num(total),
      currencyLocale: 'en-US',
    },
    customers: Array.from({ length: customers }, (_, c) => plainCustomer(c, subscriptions, resources, total)),
  };
}

export function plainCustomer(c: number, subscriptions: number, resources: number, total: string) {
  const id = pcGuid(c + 1);
  return {
    record: {
      id,
      name: `Customer ${c}`,
      isUpgraded: false,
      totalCost: num(total),
      currencyLocale: 'en-US',
      budget: { amount: num('100') },
    },
    summary: { id, name: `Customer ${c}`, ...BILLING, totalCost: num(total), currencyLocale: 'en-US' },
    subscriptions: Array.from({ length: subscriptions }, (_, s) => ({
      record: {
        id: pcGuid(s + 1, c + 1),
        name: `Sub ${c}.${s}`,
        status: 'active',
        offerId: 'MS-AZR-0145P',
        totalCost: num(total),
        currencyLocale: 'en-US',
      },
      resources: Array.from({ length: resources }, (_, r) => ({
        id: pcGuid(r + 1, 1000 + c * 100 + s),
        name: `vm-${r}`,
        category: 'Virtual Machines',
        subcategory: 'D2 v3',
        quantityUsed: num('720'),
        unit: 'Hours',
        totalCost: num(total),
        currencyLocale: 'en-US',
      })),
    })),
  } satisfies ScriptedCustomer;
}

/** The customer record (list row) of a scripted customer, for editing in a test. */
export const recordOf = (c: ScriptedCustomer) => c.record as Record<string, Json>;
export const summaryOf = (c: ScriptedCustomer) => c.summary as Record<string, Json>;

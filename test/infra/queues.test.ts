import type * as FunctionsCoreModule from '../../dev/localHost/functionsCore';
import { at, snapshot } from './compiler';

type FunctionsCore = typeof FunctionsCoreModule;

/**
 * The app's own registrations (as the Functions host indexes them) against what `bicep snapshot`
 * says a deployment creates: every %SETTING% a trigger uses is an app setting, every queue a queue
 * trigger reads exists (with its -poison twin), and its connection is identity-based.
 */
jest.setTimeout(120_000);

const deployed = snapshot();
const site = deployed.only('Microsoft.Web/sites');
const appSettings = new Map(
  (at(site, 'properties.siteConfig.appSettings') as Array<{ name: string; value: unknown }>).map((s) => [
    s.name,
    s.value,
  ]),
);
const provisionedQueues = deployed
  .ofType('Microsoft.Storage/storageAccounts/queueServices/queues')
  .map((q) => q.name.split('/').pop() as string);

function triggers(): Array<{ name: string; trigger: Record<string, unknown> }> {
  let found: Array<{ name: string; trigger: Record<string, unknown> }> = [];
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = require('../../dev/localHost/functionsCore') as FunctionsCore;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../../src/index');
    found = core.registeredFunctions().map((fn) => ({ name: fn.name, trigger: core.triggerOf(fn) }));
  });
  return found;
}
const registered = triggers();
const queueTriggers = registered.filter((f) => f.trigger.type === 'queueTrigger');

const resolve = (text: string) =>
  text.replace(/%([^%]+)%/g, (_, name: string) => String(appSettings.get(name) ?? `<${name} unset>`));

test('the app registers a queue trigger (the snapshot request), so these checks check something', () => {
  expect(queueTriggers.map((f) => f.name)).toContain('snapshotRequest');
});

test('every %SETTING% any registration uses (schedules, queue names) is an app setting', () => {
  const referenced = registered.flatMap((f) =>
    [f.trigger.schedule, f.trigger.queueName]
      .filter((v): v is string => typeof v === 'string')
      .flatMap((v) => [...v.matchAll(/%([^%]+)%/g)].map((m) => m[1])),
  );
  expect(referenced).toEqual(expect.arrayContaining(['SNAPSHOT_SCHEDULE', 'SNAPSHOT_REQUEST_QUEUE']));
  expect(referenced.filter((name) => !appSettings.has(name))).toEqual([]);
});

test.each(queueTriggers.map((f) => [f.name, f.trigger] as const))(
  '%s: its queue and that queue’s -poison twin are provisioned',
  (_, trigger) => {
    const queue = resolve(String(trigger.queueName));
    expect(provisionedQueues).toEqual(expect.arrayContaining([queue, `${queue}-poison`]));
  },
);

test.each(queueTriggers.map((f) => [f.name, f.trigger] as const))(
  '%s: its connection is identity-based (queue endpoint, managed identity, the app identity), never a connection string',
  (_, trigger) => {
    const connection = String(trigger.connection);
    expect(appSettings.has(connection)).toBe(false);
    expect(String(appSettings.get(`${connection}__queueServiceUri`))).toMatch(/primaryEndpoints\.queue/);
    expect(appSettings.get(`${connection}__credential`)).toBe('managedidentity');
    expect(appSettings.get(`${connection}__clientId`)).toBe(appSettings.get('AZURE_CLIENT_ID'));
  },
);

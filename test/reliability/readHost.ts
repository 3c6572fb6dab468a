import { loadSettings } from '../../src/config/settings';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import { createTableClients } from '../../src/storage/tableClients';
import type { UsageStore } from '../../src/storage/tableUsageStore';
import { azuriteConnectionString } from '../support/tables';
import { startDataHarness, type DataHarness } from './dataHarness';
import type { ScriptedTenant } from './scriptedPartnerCenter';

export const FUNCTION_KEY = 'reads-function-key';

/** What a portal sees for one GET: status, the snapshot headers and the body text. */
export interface Answer {
  status: number;
  runId: string | null;
  takenAt: string | null;
  body: string;
}

export interface ReadHost {
  get(path: string): Promise<Answer>;
  close(): Promise<void>;
}

/**
 * The app's own registrations (src/index.ts) served by the local host over HTTP, reading `store`.
 * The test file replaces the composition root (jest.mock of src/app/dependencies) with the one
 * handed to `setRoot`, as test/api/localHost.test.ts does, so reads go through every real layer.
 */
export async function startReadHost(store: UsageStore, setRoot: (root: unknown) => void): Promise<ReadHost> {
  const env = {
    STORAGE_CONNECTION_STRING: azuriteConnectionString(),
    PARTNER_CENTER_TENANT_ID: '11111111-2222-4333-8444-555555555555',
    PARTNER_CENTER_CLIENT_ID: '66666666-7777-4888-9999-aaaaaaaaaaaa',
    PARTNER_CENTER_CLIENT_SECRET: 'unused-in-this-test',
    PARTNER_CENTER_REFRESH_TOKEN: 'unused-in-this-test',
  };
  Object.assign(process.env, env);
  const settings = loadSettings(env);
  setRoot({
    settings,
    tables: createTableClients(settings.storage, () => {
      throw new Error('no credential');
    }),
    secretStore: { ping: async () => undefined },
    usageStore: store,
  });
  await import('../../src/index');
  const host: LocalHost = await startLocalHost({
    port: 0,
    functionKey: FUNCTION_KEY,
    masterKey: 'reads-master-key',
    timers: false,
    log: () => undefined,
  });
  return {
    get: async (path) => {
      const res = await fetch(`${host.url}${path}`, {
        headers: { 'x-functions-key': FUNCTION_KEY, accept: 'application/json' },
      });
      return {
        status: res.status,
        runId: res.headers.get('x-snapshot-run-id'),
        takenAt: res.headers.get('x-snapshot-taken-at'),
        body: await res.text(),
      };
    },
    close: () => host.close(),
  };
}

/**
 * Registers the file's beforeAll/afterAll: a data harness serving `tenant` and the app over HTTP
 * reading its store. The returned object is filled in before the first test runs.
 */
export function useReadingHarness(
  tenant: ScriptedTenant,
  setRoot: (root: unknown) => void,
): { h: DataHarness; host: ReadHost } {
  const parts = {} as { h: DataHarness; host: ReadHost };
  beforeAll(async () => {
    parts.h = await startDataHarness(tenant);
    parts.host = await startReadHost(parts.h.store, setRoot);
  }, 60_000);
  afterAll(async () => {
    await parts.host?.close();
    await parts.h?.close();
  });
  return parts;
}

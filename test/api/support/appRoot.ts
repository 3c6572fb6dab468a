import { loadSettings, type Settings } from '../../../src/config/settings';
import { createTableClients, type TableClients } from '../../../src/storage/tableClients';
import type { UsageStore } from '../../../src/storage/tableUsageStore';
import { azuriteConnectionString } from '../../support/tables';

/** What the HTTP tests' replaced composition root holds: the seeded store, no Partner Center. */
export interface TestRoot {
  settings: Settings;
  tables: TableClients;
  secretStore: unknown;
  usageStore: UsageStore;
}

/** A composition root over the given store on the shared Azurite, for tests that mock src/app/dependencies. */
export function testRoot(usageStore: UsageStore): TestRoot {
  const env = {
    STORAGE_CONNECTION_STRING: azuriteConnectionString(),
    PARTNER_CENTER_TENANT_ID: '11111111-2222-4333-8444-555555555555',
    PARTNER_CENTER_CLIENT_ID: '66666666-7777-4888-9999-aaaaaaaaaaaa',
    PARTNER_CENTER_CLIENT_SECRET: 'unused-in-this-test',
    PARTNER_CENTER_REFRESH_TOKEN: 'unused-in-this-test',
  };
  // The app validates its settings as it loads (and answers 503 while they are invalid), so the
  // process environment must hold valid ones before src/index is imported.
  Object.assign(process.env, env);
  const settings = loadSettings(env);
  return {
    settings,
    tables: createTableClients(settings.storage, () => {
      throw new Error('no credential');
    }),
    secretStore: { ping: async () => undefined },
    usageStore,
  };
}

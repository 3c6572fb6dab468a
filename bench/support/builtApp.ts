import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as SettingsModule from '../../src/config/settings';
import type * as LoggerModule from '../../src/observability/logger';
import type * as AuthModule from '../../src/partnerCenter/auth';
import type * as ClientModule from '../../src/partnerCenter/client';
import type * as TransportModule from '../../src/partnerCenter/transport';
import type * as LocalSecretStoreModule from '../../src/secrets/localSecretStore';
import type * as RunSnapshotModule from '../../src/snapshot/runSnapshot';
import type * as SnapshotDependenciesModule from '../../src/snapshot/snapshotDependencies';
import type * as KeysModule from '../../src/storage/keys';
import type * as TableClientsModule from '../../src/storage/tableClients';
import type * as TableUsageStoreModule from '../../src/storage/tableUsageStore';
import { repoRoot } from '../harness';

const load = createRequire(__filename);

/**
 * A module of the built app (dist/, what Azure runs), typed by its source. The benchmarks measure
 * the build rather than the TypeScript sources for two reasons: that is what is deployed, and
 * src/version.ts finds package.json relative to itself, which only the dist/ layout satisfies
 * (dist-bench/src/../package.json does not exist).
 */
export function built<T>(modulePath: string): T {
  const file = path.join(repoRoot(), 'dist', `${modulePath}.js`);
  if (!fs.existsSync(file))
    throw new Error(`${file} is missing: run \`npm run build\` first (npm run bench and npm test do)`);
  return load(file) as T;
}

/** The app modules the snapshot scenarios wire together, loaded from dist/. */
export function builtApp() {
  return {
    settings: built<typeof SettingsModule>('config/settings'),
    logger: built<typeof LoggerModule>('observability/logger'),
    auth: built<typeof AuthModule>('partnerCenter/auth'),
    client: built<typeof ClientModule>('partnerCenter/client'),
    transport: built<typeof TransportModule>('partnerCenter/transport'),
    localSecretStore: built<typeof LocalSecretStoreModule>('secrets/localSecretStore'),
    runSnapshot: built<typeof RunSnapshotModule>('snapshot/runSnapshot'),
    snapshotDependencies: built<typeof SnapshotDependenciesModule>('snapshot/snapshotDependencies'),
    keys: built<typeof KeysModule>('storage/keys'),
    tableClients: built<typeof TableClientsModule>('storage/tableClients'),
    tableUsageStore: built<typeof TableUsageStoreModule>('storage/tableUsageStore'),
  };
}

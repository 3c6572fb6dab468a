import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite } from '../../dev/localHost/azurite';

/**
 * One in-memory Azurite for the whole run, on a free loopback port. Test files isolate themselves
 * with their own table prefix (see ./tables.ts); workers read the connection string from the env.
 * Also the folder where every worker's output is collected for the secret scan at teardown.
 */
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite();
  process.env.TEST_AZURITE_CONNECTION_STRING = azurite.connectionString;
  process.env.TEST_AZURITE_TABLE_ENDPOINT = azurite.tableEndpoint;
  process.env.TEST_AZURITE_QUEUE_ENDPOINT = azurite.queueEndpoint;
  process.env.TEST_OUTPUT_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'usage-cache-test-output-'));
  (globalThis as { __azurite?: typeof azurite }).__azurite = azurite;
}

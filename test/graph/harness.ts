import { gunzipSync } from 'node:zlib';
import { createLogger, type Logger } from '../../src/observability/logger';
import { ClientCredentialsTokenProvider } from '../../src/graph/auth';
import { createUsageExportClient } from '../../src/graph/client';
import type { ExportBlob, ExportManifest, UsageExportClient } from '../../src/graph/usageExportClient';
import type { RetryPolicy } from '../../src/partnerCenter/retry';
import { createHttp } from '../../src/partnerCenter/transport';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../dev/sandbox';
import {
  FAST_RETRY,
  record,
  SECRET_NAMES,
  settingsFor,
  type Exchange,
  type LogLine,
} from '../partnerCenter/harness';
import type { Settings } from '../../src/config/settings';

export interface GraphHarness {
  sandbox: Sandbox;
  client: UsageExportClient;
  tokens: ClientCredentialsTokenProvider;
  logger: Logger;
  lines: LogLine[];
  /** Token and Graph API requests (axios); blob downloads do not go through axios. */
  exchanges: Exchange[];
  close(): Promise<void>;
}

export async function startGraphHarness(
  options: {
    sandbox?: SandboxOptions;
    settings?: Partial<Settings['partnerCenter']>;
    retry?: Partial<RetryPolicy>;
  } = {},
): Promise<GraphHarness> {
  const sandbox = await startSandbox({ customers: 12, ...options.sandbox });
  const lines: LogLine[] = [];
  const logger = createLogger((level, line) => lines.push({ at: Date.now(), level, line }), 'debug');
  const store = new LocalSecretStore({
    [SECRET_NAMES.clientSecretName]: sandbox.credentials.clientSecret,
  });
  const http = createHttp();
  const exchanges = record(http);
  const partnerCenter = settingsFor(sandbox, options.settings);
  const tokens = new ClientCredentialsTokenProvider({
    settings: partnerCenter,
    secretStore: store,
    secretNames: SECRET_NAMES,
    logger,
    http,
    retry: FAST_RETRY,
  });
  const client = createUsageExportClient({
    settings: { partnerCenter, graph: { baseUrl: sandbox.graph.baseUrl } },
    tokens,
    logger,
    http,
    retry: { ...FAST_RETRY, ...options.retry },
  });
  return { sandbox, client, tokens, logger, lines, exchanges, close: () => sandbox.close() };
}

/** Polls an operation to its end, waiting what it asks (the sandbox asks 0-1 s). */
export async function finish(client: UsageExportClient, operationId: string) {
  const polls: string[] = [];
  for (let i = 0; i < 20; i++) {
    const op = await client.getOperation(operationId);
    polls.push(op.status);
    if (op.status !== 'running' && op.status !== 'notStarted') return { op, polls };
    await new Promise((resolve) => setTimeout(resolve, op.retryAfterMs ?? 0));
  }
  throw new Error('the export never finished');
}

/** A whole blob through the client: opened, read to the end, gunzipped, split into lines. */
export async function readBlob(client: UsageExportClient, blob: ExportBlob): Promise<string[]> {
  const { body } = await client.openBlob(blob);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const text = gunzipSync(Buffer.concat(chunks)).toString('utf8');
  return text.split('\n').filter((line) => line !== '');
}

export async function manifestOf(client: UsageExportClient, operationId: string): Promise<ExportManifest> {
  const { op } = await finish(client, operationId);
  if (op.status !== 'succeeded') throw new Error(`the export ended ${op.status}`);
  return client.readManifest(op);
}

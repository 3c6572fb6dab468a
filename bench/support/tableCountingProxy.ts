import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What went through the proxy since start or the last reset. */
export interface TableTraffic {
  /** Every HTTP request, i.e. every Table Storage round trip. */
  roundTrips: number;
  /** Round trips by table (`$batch` requests under the table their operations name) and kind. */
  byTable: Record<string, { batches: number; writes: number; reads: number; other: number }>;
  /** Entity operations (insert, upsert, merge, delete) per `table|PartitionKey`, single or batched. */
  operationsByPartition: Map<string, number>;
  /** Entity operations in total and inside batches. */
  operations: number;
  batchedOperations: number;
  /** Answers with status >= 400 (a conflict on a conditional write is one). */
  errorAnswers: number;
}

export interface TableCountingProxy {
  /** Azurite's connection string with the proxy in front. */
  connectionString: string;
  traffic(): TableTraffic;
  reset(): void;
  close(): Promise<void>;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE']);

/**
 * A loopback HTTP proxy in front of Azurite that counts Table Storage requests on the wire,
 * including the operations inside each `$batch`. Counting here rather than in the app needs no
 * hook in production code and costs the measured process nothing; SharedKey signatures do not
 * cover the host, so Azurite accepts the forwarded requests as they are.
 */
export async function startTableCountingProxy(azuriteConnectionString: string): Promise<TableCountingProxy> {
  const endpoint = /TableEndpoint=(http:\/\/[^;]+)/.exec(azuriteConnectionString)?.[1];
  if (!endpoint) throw new Error('connection string has no http TableEndpoint');
  const target = new URL(endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let traffic = emptyTraffic();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      count(traffic, req.method ?? 'GET', req.url ?? '/', body);
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (answer) => {
          if ((answer.statusCode ?? 0) >= 400) traffic.errorAnswers++;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxied = new URL(endpoint);
  proxied.port = String(port);
  return {
    connectionString: azuriteConnectionString.replace(endpoint, proxied.toString().replace(/\/$/, '')),
    traffic: () => traffic,
    reset: () => {
      traffic = emptyTraffic();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

function emptyTraffic(): TableTraffic {
  return {
    roundTrips: 0,
    byTable: {},
    operationsByPartition: new Map(),
    operations: 0,
    batchedOperations: 0,
    errorAnswers: 0,
  };
}

function tableEntry(traffic: TableTraffic, table: string) {
  return (traffic.byTable[table] ??= { batches: 0, writes: 0, reads: 0, other: 0 });
}

function count(traffic: TableTraffic, method: string, url: string, body: Buffer): void {
  traffic.roundTrips++;
  const path = decodeURIComponent(url.split('?')[0]);
  if (path.endsWith('/$batch')) {
    const operations = batchOperations(body.toString('utf8'));
    const table = operations[0]?.table ?? '$batch';
    tableEntry(traffic, table).batches++;
    for (const op of operations) addOperation(traffic, op.table, op.partitionKey);
    traffic.batchedOperations += operations.length;
    return;
  }
  const target = entityTarget(path);
  if (!target || target.table === 'Tables') {
    tableEntry(traffic, target?.table ?? 'other').other++;
    return;
  }
  if (method === 'GET') {
    tableEntry(traffic, target.table).reads++;
    return;
  }
  if (!WRITE_METHODS.has(method)) {
    tableEntry(traffic, target.table).other++;
    return;
  }
  tableEntry(traffic, target.table).writes++;
  addOperation(traffic, target.table, target.partitionKey ?? jsonPartitionKey(body.toString('utf8')));
}

function addOperation(traffic: TableTraffic, table: string, partitionKey: string | undefined): void {
  const key = `${table}|${partitionKey ?? '?'}`;
  traffic.operationsByPartition.set(key, (traffic.operationsByPartition.get(key) ?? 0) + 1);
  traffic.operations++;
}

/** `/account/table(PartitionKey='…',RowKey='…')`, `/account/table()` or `/account/table` (URL-decoded). */
function entityTarget(path: string): { table: string; partitionKey?: string } | undefined {
  const match =
    /^\/[^/]+\/([^/(]+)(?:\(\)|\(PartitionKey='((?:[^']|'')*)',RowKey='(?:[^']|'')*'\))?\/?$/.exec(path);
  if (!match) return undefined;
  return { table: match[1], partitionKey: match[2]?.replace(/''/g, "'") };
}

function jsonPartitionKey(text: string): string | undefined {
  const match = /"PartitionKey"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(text);
  return match ? (JSON.parse(match[1]) as string) : undefined;
}

/** The operations of a `$batch` body: one changeset, one partition, each part a request line + JSON. */
function batchOperations(text: string): Array<{ table: string; partitionKey: string | undefined }> {
  const operations: Array<{ table: string; partitionKey: string | undefined }> = [];
  for (const part of text.split(/\r?\n--changeset_/).slice(1)) {
    const line = /^(POST|PUT|PATCH|MERGE|DELETE) (\S+) HTTP\/1\.1$/m.exec(part);
    if (!line) continue;
    const target = entityTarget(decodeURIComponent(new URL(line[2]).pathname));
    if (!target) continue;
    operations.push({ table: target.table, partitionKey: target.partitionKey ?? jsonPartitionKey(part) });
  }
  return operations;
}

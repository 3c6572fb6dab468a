import { connect } from 'node:net';
import { azuriteConnectionString as connectionStringFor } from '../../dev/localHost/azurite';
import { StorageTimeoutError } from '../../src/storage/errors';
import { azuriteConnectionString, testTables, uniqueTablePrefix } from '../support/tables';
import { startScriptedServer, type ScriptedServer } from '../support/tcpServer';

const TIMEOUT_MS = 300;
/** The SDK's retry policy as in production (3 retries), with short waits. */
const RETRIES = { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 20 };

/** The app's own Table clients (timeout policy included), aimed at a scripted server. */
function clientsAt(server: ScriptedServer, prefix: string, requestTimeoutMs = TIMEOUT_MS) {
  return testTables({
    connectionString: connectionStringFor(server.port),
    tablePrefix: prefix,
    requestTimeoutMs,
    retryOptions: RETRIES,
  });
}

const azuritePort = () => Number(/TableEndpoint=http:\/\/[^:]+:(\d+)/.exec(azuriteConnectionString())?.[1]);

describe('Table request timeout', () => {
  const servers: ScriptedServer[] = [];
  const serve = async (...args: Parameters<typeof startScriptedServer>) => {
    const server = await startScriptedServer(...args);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  test('when storage accepts connections and never answers, then the request fails with StorageTimeoutError after one retry, not after the SDK’s three', async () => {
    const hole = await serve();
    const table = clientsAt(hole, 'timeout').table('Entities');

    const error = await table.getEntity('p', 'r').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageTimeoutError);
    expect(error).toMatchObject({ code: 'StorageTimeout', timeoutMs: TIMEOUT_MS });
    expect((error as Error).message).toBe(
      `Table Storage did not answer GET /devstoreaccount1/timeoutEntities(PartitionKey='p',RowKey='r') within 0.3 s`,
    );
    expect(hole.connections()).toBe(2);
  });

  test('when the first connection is silently dead and the next one answers, then the read succeeds on the retry', async () => {
    const prefix = uniqueTablePrefix('to');
    const direct = testTables({ tablePrefix: prefix }).table('Entities');
    await direct.createTable();
    await direct.createEntity({ partitionKey: 'p', rowKey: 'r', value: 'kept' });
    // Connection 1 swallows everything; later ones reach Azurite.
    const flaky = await serve((socket, n) => {
      if (n === 1) return void socket.resume();
      const upstream = connect(azuritePort(), '127.0.0.1');
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      socket.pipe(upstream).pipe(socket);
    });

    const entity = await clientsAt(flaky, prefix).table('Entities').getEntity('p', 'r');

    expect(entity).toMatchObject({ partitionKey: 'p', rowKey: 'r', value: 'kept' });
    expect(flaky.connections()).toBe(2);
  });

  test('when storage sends its headers and then stalls mid-body, then that is a timeout too', async () => {
    const stalling = await serve((socket) => {
      socket.once('data', () =>
        socket.write(
          'HTTP/1.1 200 OK\r\nContent-Type: application/json;odata=nometadata\r\nContent-Length: 200\r\n\r\n{"PartitionKey":',
        ),
      );
    });

    const error = await clientsAt(stalling, 'stall')
      .table('Entities')
      .getEntity('p', 'r')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageTimeoutError);
    expect(stalling.connections()).toBe(2);
  });

  test('when the caller aborts while storage is silent, then the caller’s abort surfaces at once, not a timeout, and nothing is retried', async () => {
    const hole = await serve();
    const table = clientsAt(hole, 'abort', 10_000).table('Entities');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();

    const error = await table
      .getEntity('p', 'r', { abortSignal: controller.signal })
      .catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(StorageTimeoutError);
    expect((error as Error).name).toBe('AbortError');
    // Well before the 10 s timeout would have fired.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(hole.connections()).toBe(1);
  });
});

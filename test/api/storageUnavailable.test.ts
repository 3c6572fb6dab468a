import { createCustomerUsageSummaryHandler } from '../../src/api/handlers/customerUsageSummary';
import { createCustomersHandler } from '../../src/api/handlers/customers';
import { azuriteConnectionString as connectionStringFor } from '../../dev/localHost/azurite';
import { freePort } from '../../dev/localHost/freePort';
import { createUsageStore } from '../../src/storage/tableUsageStore';
import { testTables } from '../support/tables';
import { startScriptedServer } from '../support/tcpServer';
import { apiSettings, clock, customerId } from './support/fixtures';
import { call, type ErrorAnswer } from './support/http';

const TIMEOUT_MS = 300;

/** A store over the app's own Table clients, aimed at `port`, with no SDK retries. */
function storeAt(port: number) {
  return createUsageStore(
    testTables({
      connectionString: connectionStringFor(port),
      requestTimeoutMs: TIMEOUT_MS,
      retryOptions: { maxRetries: 0 },
    }),
  );
}

describe('Table Storage unavailable under a read', () => {
  const expectUnavailable = (res: Awaited<ReturnType<typeof call>>) => {
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json<ErrorAnswer>().error).toEqual({
      code: 'StorageUnavailable',
      message: 'The usage store is not answering; try again shortly',
    });
    // Nothing about the storage endpoint leaks into the answer.
    expect(res.text).not.toMatch(/127\.0\.0\.1|devstoreaccount1|ECONN|AccountKey/);
  };

  test('when storage accepts the connection but never answers, then 503 StorageUnavailable once the Table request times out', async () => {
    const hole = await startScriptedServer();
    try {
      const reader = storeAt(hole.port);
      const started = Date.now();
      const res = await call(
        createCustomerUsageSummaryHandler({ reader, settings: apiSettings, clock }),
        `/api/v1/customers/${customerId(1)}/usage-summary`,
        { params: { customerId: customerId(1) } },
      );
      const waited = Date.now() - started;
      expectUnavailable(res);
      expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    } finally {
      await hole.close();
    }
  });

  test('when nothing listens on the storage endpoint, then 503 StorageUnavailable', async () => {
    const reader = storeAt(await freePort());
    const res = await call(
      createCustomersHandler({ reader, settings: apiSettings, clock }),
      '/api/v1/customers',
    );
    expectUnavailable(res);
  });
});

import { app } from '@azure/functions';
import { ALL_METHODS, endpoint } from '../api/endpoint';
import { createHealthHandler } from '../api/health';
import { dependencies } from '../app/dependencies';
import { APP_VERSION } from '../version';

let handler: ReturnType<typeof createHealthHandler> | undefined;

export function healthHandler(): ReturnType<typeof createHealthHandler> {
  if (handler) return handler;
  const { tables, secretStore } = dependencies();
  handler = createHealthHandler({
    version: APP_VERSION,
    probes: {
      // Listing at most one table proves the endpoint answers and the identity may read tables.
      tableStorage: async (abortSignal) => {
        await tables.service.listTables({ abortSignal }).byPage({ maxPageSize: 1 }).next();
      },
      secretStore: () => secretStore.ping(),
    },
  });
  return handler;
}

// All methods, so a wrong one gets 405 with Allow (the host alone would answer a bare 404).
app.http('health', {
  route: 'health',
  methods: ALL_METHODS,
  authLevel: 'anonymous',
  handler: endpoint({ GET: () => healthHandler()() }),
});

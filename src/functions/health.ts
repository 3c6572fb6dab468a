import { app } from '@azure/functions';
import { ALL_METHODS, endpoint } from '../api/endpoint';
import { createHealthHandler } from '../api/health';
import { dependencies } from '../app/dependencies';
import { APP_VERSION } from '../version';

// Built at load, so its cache and in-flight probe are shared by every invocation of the process.
// The probes reach for the composition root only when they run, so liveness needs no settings.
export const healthHandler = createHealthHandler({
  version: APP_VERSION,
  probes: {
    // Listing at most one table proves the endpoint answers and the identity may read tables.
    tableStorage: async (abortSignal) => {
      await dependencies().tables.service.listTables({ abortSignal }).byPage({ maxPageSize: 1 }).next();
    },
    secretStore: (abortSignal) => dependencies().secretStore.ping(abortSignal),
  },
});

// All methods, so a wrong one gets 405 with Allow (the host alone would answer a bare 404).
app.http('health', {
  route: 'health',
  methods: ALL_METHODS,
  authLevel: 'anonymous',
  handler: endpoint({ GET: (request) => healthHandler(request) }),
});

import { app } from '@azure/functions';
import { ALL_METHODS } from '../api/endpoint';
import { createOpenApiHandler } from '../api/handlers/openapi';

export const openApiHandler = createOpenApiHandler();

// Anonymous: the document holds no data and no secret, and tooling (code generators, Swagger UI)
// can fetch it without a key; every route it describes still checks its own key.
app.http('openapi', {
  route: 'v1/openapi.json',
  methods: ALL_METHODS,
  authLevel: 'anonymous',
  handler: openApiHandler,
});

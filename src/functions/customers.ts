import { app } from '@azure/functions';
import { ALL_METHODS, type ApiHandler } from '../api/endpoint';
import { createCustomersHandler } from '../api/handlers/customers';
import { dependencies } from '../app/dependencies';

let handler: ApiHandler | undefined;

export function customersHandler(): ApiHandler {
  if (handler) return handler;
  const { usageStore, settings, continuationTokenKeys } = dependencies();
  handler = createCustomersHandler({ reader: usageStore, settings, tokenKeys: continuationTokenKeys });
  return handler;
}

app.http('customers', {
  route: 'v1/customers',
  methods: ALL_METHODS,
  authLevel: 'function',
  handler: (request, context) => customersHandler()(request, context),
});

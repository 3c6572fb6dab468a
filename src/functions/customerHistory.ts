import { app } from '@azure/functions';
import { ALL_METHODS, type ApiHandler } from '../api/endpoint';
import { createCustomerHistoryHandler } from '../api/handlers/customerHistory';
import { dependencies } from '../app/dependencies';

let handler: ApiHandler | undefined;

export function customerHistoryHandler(): ApiHandler {
  if (handler) return handler;
  const { usageStore, settings, continuationTokenKeys } = dependencies();
  handler = createCustomerHistoryHandler({ reader: usageStore, settings, tokenKeys: continuationTokenKeys });
  return handler;
}

app.http('customerHistory', {
  route: 'v1/customers/{customerId}/history',
  methods: ALL_METHODS,
  authLevel: 'function',
  handler: (request, context) => customerHistoryHandler()(request, context),
});

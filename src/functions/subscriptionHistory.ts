import { app } from '@azure/functions';
import { ALL_METHODS, type ApiHandler } from '../api/endpoint';
import { createSubscriptionHistoryHandler } from '../api/handlers/subscriptionHistory';
import { dependencies } from '../app/dependencies';

let handler: ApiHandler | undefined;

export function subscriptionHistoryHandler(): ApiHandler {
  if (handler) return handler;
  const { usageStore, settings, continuationTokenKeys } = dependencies();
  handler = createSubscriptionHistoryHandler({
    reader: usageStore,
    settings,
    tokenKeys: continuationTokenKeys,
  });
  return handler;
}

app.http('subscriptionHistory', {
  route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/history',
  methods: ALL_METHODS,
  authLevel: 'function',
  handler: (request, context) => subscriptionHistoryHandler()(request, context),
});

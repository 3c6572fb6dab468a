import { app } from '@azure/functions';
import { ALL_METHODS, type ApiHandler } from '../api/endpoint';
import { createSubscriptionResourcesHandler } from '../api/handlers/subscriptionResources';
import { dependencies } from '../app/dependencies';

let handler: ApiHandler | undefined;

export function subscriptionResourcesHandler(): ApiHandler {
  if (handler) return handler;
  const { usageStore, settings } = dependencies();
  handler = createSubscriptionResourcesHandler({ reader: usageStore, settings });
  return handler;
}

app.http('subscriptionResources', {
  route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/resources',
  methods: ALL_METHODS,
  authLevel: 'function',
  handler: (request, context) => subscriptionResourcesHandler()(request, context),
});

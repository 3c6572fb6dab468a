import { app } from '@azure/functions';
import { ALL_METHODS, type ApiHandler } from '../api/endpoint';
import { createCustomerSubscriptionsHandler } from '../api/handlers/customerSubscriptions';
import { dependencies } from '../app/dependencies';

let handler: ApiHandler | undefined;

export function customerSubscriptionsHandler(): ApiHandler {
  if (handler) return handler;
  const { usageStore, settings } = dependencies();
  handler = createCustomerSubscriptionsHandler({ reader: usageStore, settings });
  return handler;
}

app.http('customerSubscriptions', {
  route: 'v1/customers/{customerId}/subscriptions',
  methods: ALL_METHODS,
  authLevel: 'function',
  handler: (request, context) => customerSubscriptionsHandler()(request, context),
});

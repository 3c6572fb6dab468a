import { app } from '@azure/functions';
import { ALL_METHODS, type ApiHandler } from '../api/endpoint';
import { createCustomerUsageSummaryHandler } from '../api/handlers/customerUsageSummary';
import { dependencies } from '../app/dependencies';

let handler: ApiHandler | undefined;

export function customerUsageSummaryHandler(): ApiHandler {
  if (handler) return handler;
  const { usageStore, settings } = dependencies();
  handler = createCustomerUsageSummaryHandler({ reader: usageStore, settings });
  return handler;
}

app.http('customerUsageSummary', {
  route: 'v1/customers/{customerId}/usage-summary',
  methods: ALL_METHODS,
  authLevel: 'function',
  handler: (request, context) => customerUsageSummaryHandler()(request, context),
});

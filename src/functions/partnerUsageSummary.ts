import { app } from '@azure/functions';
import { ALL_METHODS, type ApiHandler } from '../api/endpoint';
import { createPartnerUsageSummaryHandler } from '../api/handlers/partnerUsageSummary';
import { dependencies } from '../app/dependencies';

let handler: ApiHandler | undefined;

export function partnerUsageSummaryHandler(): ApiHandler {
  if (handler) return handler;
  const { usageStore, settings } = dependencies();
  handler = createPartnerUsageSummaryHandler({ reader: usageStore, settings });
  return handler;
}

app.http('partnerUsageSummary', {
  route: 'v1/partner/usage-summary',
  methods: ALL_METHODS,
  authLevel: 'function',
  handler: (request, context) => partnerUsageSummaryHandler()(request, context),
});

import { app } from '@azure/functions';
import { ALL_METHODS, type ApiHandler } from '../api/endpoint';
import { createSnapshotsHandler } from '../api/handlers/snapshots';
import { dependencies } from '../app/dependencies';

let handler: ApiHandler | undefined;

export function snapshotsHandler(): ApiHandler {
  if (handler) return handler;
  const { usageStore } = dependencies();
  handler = createSnapshotsHandler({ reader: usageStore, runs: usageStore });
  return handler;
}

app.http('snapshots', {
  route: 'v1/snapshots',
  methods: ALL_METHODS,
  authLevel: 'admin',
  handler: (request, context) => snapshotsHandler()(request, context),
});

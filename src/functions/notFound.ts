import { app } from '@azure/functions';
import { ALL_METHODS } from '../api/endpoint';
import { createNotFoundHandler } from '../api/handlers/notFound';

export const notFoundHandler = createNotFoundHandler();

// The least specific route there is: the host tries every other route first, so only unknown
// paths land here and get a JSON 404 instead of the host's empty one. Anonymous, so an unknown
// path says the same to everyone.
app.http('notFound', {
  route: '{*path}',
  methods: ALL_METHODS,
  authLevel: 'anonymous',
  handler: notFoundHandler,
});

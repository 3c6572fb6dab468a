import { app } from '@azure/functions';
import type { ApiHandler } from '../api/endpoint';
import { dependencies } from '../app/dependencies';
import { HTTP_FUNCTIONS } from './httpFunctions';
import { QUEUE_CONNECTION, QUEUE_FUNCTIONS } from './queueFunctions';
import { TIMER_FUNCTIONS } from './timerFunctions';

/**
 * Registers the app's functions from the three tables (HTTP, timer, queue) with the Functions
 * host: what `src/index.ts` runs as the worker loads the app. `only` names a subset (tests that
 * serve one function).
 */
export function registerFunctions(options: { only?: readonly string[] } = {}): void {
  const wanted = (name: string) => options.only === undefined || options.only.includes(name);
  for (const fn of HTTP_FUNCTIONS.filter((f) => wanted(f.name))) {
    let handler: ApiHandler | undefined;
    app.http(fn.name, {
      route: fn.route,
      methods: fn.methods,
      authLevel: fn.authLevel,
      handler: (request, context) => {
        handler ??= fn.create(dependencies);
        return handler(request, context);
      },
    });
  }
  for (const fn of TIMER_FUNCTIONS.filter((f) => wanted(f.name))) {
    app.timer(fn.name, { schedule: fn.schedule, runOnStartup: false, handler: fn.handler });
  }
  for (const fn of QUEUE_FUNCTIONS.filter((f) => wanted(f.name))) {
    app.storageQueue(fn.name, { queueName: fn.queueName, connection: QUEUE_CONNECTION, handler: fn.handler });
  }
}

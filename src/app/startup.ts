import { HttpRequest, type InvocationContext, type PreInvocationContext } from '@azure/functions';
import { ApiError, errorResponse } from '../api/errors';
import { isLivenessRequest } from '../api/health';
import { ConfigurationError, getSettings } from '../config/settings';
import { consoleLogger, contextLogger, type Logger } from '../observability/logger';

/** The settings as validated when the app loaded. */
export type Configuration = { valid: true } | { valid: false; problems: string };

/** What an operator reads next to the problems: what the app does until they are fixed. */
const EFFECT =
  'every HTTP route but GET /api/health?probe=live answers 503 ConfigurationInvalid and timers do no work until the settings are fixed';

/**
 * Validates every setting once, as the app loads, and logs one line naming each bad one (names
 * and expectations, never values). Any other error is a defect and is thrown.
 */
export function checkConfiguration(
  logger: Logger = consoleLogger(),
  load: () => unknown = getSettings,
): Configuration {
  const problems = problemsOf(load);
  if (problems === undefined) return { valid: true };
  logger.event('ConfigurationInvalid', { problems, effect: EFFECT });
  return { valid: false, problems };
}

/**
 * A pre-invocation hook for an app whose settings were invalid at load: HTTP functions answer 503
 * ConfigurationInvalid (the liveness probe still answers), timers log the reason and end. Every
 * function stays registered, so the host, its routes and its alerts look the same as when the
 * app is healthy, and no handler ever reaches for a setting that is not there.
 */
export function configurationGuard(
  load: () => unknown = getSettings,
): (context: PreInvocationContext) => void {
  return (context) => {
    // In Azure a settings change restarts the worker, so this answer never changes there; asking
    // again lets a process that completes its environment after loading the app (a test, a tool)
    // serve once its settings are valid. Valid settings are cached, so that costs nothing after.
    const problems = problemsOf(load);
    if (problems === undefined) return;
    const [trigger] = context.inputs;
    if (trigger instanceof HttpRequest) {
      if (context.invocationContext.functionName === 'health' && isLivenessRequest(trigger)) return;
      context.functionHandler = () =>
        errorResponse(
          new ApiError(
            'ConfigurationInvalid',
            "The app's settings are invalid; the operator has been told which ones to fix",
          ),
        );
      return;
    }
    context.functionHandler = (...args: unknown[]) => {
      const invocation = args.at(-1) as InvocationContext;
      contextLogger(invocation).event('ConfigurationInvalid', {
        function: invocation.functionName,
        problems,
        effect: EFFECT,
      });
    };
  };
}

function problemsOf(load: () => unknown): string | undefined {
  try {
    load();
    return undefined;
  } catch (error) {
    if (error instanceof ConfigurationError) return error.summary;
    throw error;
  }
}

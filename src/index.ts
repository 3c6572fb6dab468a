import { app } from '@azure/functions';
import { checkConfiguration, configurationGuard } from './app/startup';
import { registerFunctions } from './functions/register';

app.setup({ enableHttpStream: false });

// Settings are validated once, here, as the worker loads the app: a bad one is logged once at
// start, and every invocation answers 503 ConfigurationInvalid instead of throwing per request.
const configuration = checkConfiguration();
if (!configuration.valid) app.hook.preInvocation(configurationGuard());

// Every function, from the route, timer and queue tables in src/functions.
registerFunctions();

import { app } from '@azure/functions';
import { checkConfiguration, configurationGuard } from './app/startup';

app.setup({ enableHttpStream: false });

// Settings are validated once, here, as the worker loads the app: a bad one is logged once at
// start, and every invocation answers 503 ConfigurationInvalid instead of throwing per request.
const configuration = checkConfiguration();
if (!configuration.valid) app.hook.preInvocation(configurationGuard());

// One import per function file: each registers itself with app.http / app.timer.
import './functions/health';
import './functions/partnerUsageSummary';
import './functions/customers';
import './functions/customerUsageSummary';
import './functions/customerSubscriptions';
import './functions/subscriptionResources';
import './functions/customerHistory';
import './functions/subscriptionHistory';
import './functions/snapshots';
import './functions/openapi';
import './functions/notFound';
import './functions/snapshotTimer';
import './functions/snapshotResumeTimer';
import './functions/retentionTimer';

import { app } from '@azure/functions';

app.setup({ enableHttpStream: false });

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

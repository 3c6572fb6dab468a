import { app } from '@azure/functions';

app.setup({ enableHttpStream: false });

// One import per function file: each registers itself with app.http / app.timer.
import './functions/health';

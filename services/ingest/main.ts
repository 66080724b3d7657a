// The ingest process: config, connection, lifecycle and signals come from runService.
import { runService } from '../../libs/telemetry/index.js';
import { startIngest } from './index.js';

await runService({ name: 'ingest', start: (ctx) => startIngest(ctx) });

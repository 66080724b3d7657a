// The ingest process: config, connection, lifecycle and signals come from runService. It serves
// the HTTP Tracking API on CAIRN_HTTP_PORT next to the NATS-side consumer.
import { runService } from '../../libs/telemetry/index.js';
import { startIngest } from './index.js';

await runService({ name: 'ingest', start: (ctx) => startIngest(ctx, { http: true }) });

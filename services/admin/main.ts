// The admin process: config, connection, lifecycle and signals come from runService. It serves
// the admin HTTP API and the web console on CAIRN_ADMIN_PORT.
import { runService } from '../../libs/telemetry/index.js';
import { startAdmin } from './index.js';

await runService({ name: 'admin', start: (ctx) => startAdmin(ctx) });

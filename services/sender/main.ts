// The sender process: config, connection, lifecycle and signals come from runService.
import { runService } from '../../libs/telemetry/index.js';
import { startSender } from './index.js';

await runService({ name: 'sender', start: (ctx) => startSender(ctx) });

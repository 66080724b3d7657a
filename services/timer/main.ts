// The timer process: config, connection, lifecycle and signals come from runService.
import { runService } from '../../libs/telemetry/index.js';
import { startTimer } from './index.js';

await runService({ name: 'timer', start: (ctx) => startTimer(ctx) });

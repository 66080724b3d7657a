// The matcher process: config, connection, lifecycle and signals come from runService.
import { runService } from '../../libs/telemetry/index.js';
import { startMatcher } from './index.js';

await runService({ name: 'matcher', start: (ctx) => startMatcher(ctx) });

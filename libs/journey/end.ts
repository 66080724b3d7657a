// Ending an instance: the status, the reason, no wait left, and an `instance.end` command.
import { journal, type Run } from './run.js';
import type { Instance } from './types.js';
import { clearWait } from './wait.js';

export function endInstance(
  run: Run,
  instance: Instance,
  status: 'completed' | 'exited',
  reason: string,
  fields: { stepId?: string; detail?: Record<string, unknown> } = {},
): void {
  instance.status = status;
  instance.endReason = reason;
  instance.stepId = null;
  instance.recent = [];
  clearWait(instance);
  journal(run, instance, status, { ...fields, reason });
  run.commands.push({
    kind: 'instance.end',
    id: `${instance.id}:end`,
    instanceId: instance.id,
    status,
    reason,
  });
}

import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';
import { subjects } from '@gpuaas/events';
import type { Logger } from '@gpuaas/telemetry';
import { allocationEvents, emitAllocationEvent } from './events.js';
import { lockAllocation } from './repository.js';
import { moveAllocationIfIn } from './transitions.js';

export interface AllocationTask {
  readonly id: string;
  readonly nodeId: string;
  readonly kind: string;
  readonly allocationId: string | null;
  readonly payload: Record<string, unknown>;
}

export interface TaskOutcome {
  readonly status: 'succeeded' | 'failed';
  readonly result?: Record<string, unknown> | null;
  readonly error?: { readonly code: string; readonly message: string } | null;
}

export type AppliedOutcome = 'active' | 'failed' | 'released' | 'release_failed' | 'ignored';

/**
 * Applies an agent's result of a provision or release task to its allocation, in the caller's transaction (the one
 * that marks the task done): provision → active / failed, release → released / release_failed, each with its
 * outbox event. A result for an allocation that has moved on (a provision finishing after a release began, a
 * replayed result) changes nothing.
 */
export async function applyTaskOutcome(
  client: pg.PoolClient,
  deps: { readonly logger?: Logger },
  task: AllocationTask,
  outcome: TaskOutcome,
): Promise<AppliedOutcome> {
  if (!task.allocationId || (task.kind !== 'provision' && task.kind !== 'release')) return 'ignored';
  const allocationId = task.allocationId;
  const error = outcome.error ?? { code: task.kind === 'provision' ? 'provisioning_failed' : 'release_failed', message: 'The node task failed' };
  // Each move is guarded by the state it leaves (a result for an allocation that moved on changes nothing); the
  // guarded UPDATE takes the row lock itself, so the common case costs no locking read first.
  const movedOn = () => {
    deps.logger?.info({ allocation_id: allocationId, task_id: task.id, task_kind: task.kind }, 'task result for an allocation that moved on; ignored');
    return 'ignored' as const;
  };

  if (task.kind === 'provision') {
    if (outcome.status === 'succeeded') {
      const active = await moveAllocationIfIn(client, allocationId, 'provisioning', 'active', { reason: null });
      if (!active) return movedOn();
      await emitAllocationEvent(client, subjects.provisioningActive, allocationEvents.active(active));
      return 'active';
    }
    // failed drops out of allocations_slot_live_key, which frees the slot for placement.
    const failed = await moveAllocationIfIn(client, allocationId, 'provisioning', 'failed', {
      reason: error.code === 'task_timeout' ? 'task_timeout' : 'provisioning_failed',
    });
    if (!failed) return movedOn();
    await emitAllocationEvent(client, subjects.provisioningFailed, allocationEvents.failed(failed, error));
    return 'failed';
  }

  if (outcome.status === 'succeeded') {
    const released = await moveAllocationIfIn(client, allocationId, 'releasing', 'released');
    if (!released) return movedOn();
    await emitAllocationEvent(client, subjects.provisioningReleasingCompleted, allocationEvents.releasingCompleted(released));
    return 'released';
  }
  const record = await lockAllocation(client, allocationId);
  if (!record || record.state !== 'releasing') return movedOn();
  // The slot stays held (the allocation stays releasing) until an operator resolves it; billing stops at failed_at.
  const { rows } = await client.query<{ failed_at: Date }>(
    `UPDATE compute.allocations SET state_reason = 'release_failed', version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING updated_at AS failed_at`,
    [record.id],
  );
  await client.query(
    `INSERT INTO compute.allocation_transitions (id, allocation_id, from_state, to_state, reason) VALUES ($1, $2, 'releasing', 'releasing', 'release_failed')`,
    [uuidv7(), record.id],
  );
  await emitAllocationEvent(client, subjects.provisioningReleaseFailed, allocationEvents.releaseFailed({ ...record, stateReason: 'release_failed' }, rows[0]!.failed_at, error));
  return 'release_failed';
}

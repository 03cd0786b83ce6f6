import type pg from 'pg';
import { AppError, NotFound, Validation } from '@gpuaas/errors';
import { recordAudit, withTransaction } from '@gpuaas/db';
import { subjects } from '@gpuaas/events';
import type { ComputeDeps } from '../deps.js';
import { requireManagingRole, type Actor } from './actor.js';
import { allocationEvents, emitAllocationEvent, type AllocationActor } from './events.js';
import { FINAL_STATES, type AllocationRecord, type AllocationView } from './model.js';
import { findAllocationView, lockAllocation } from './repository.js';
import { moveAllocation } from './transitions.js';
import { Issues, isUuid } from './validation.js';

type Deps = Pick<ComputeDeps, 'pool'>;

async function lockForManager(client: pg.PoolClient, actor: Actor, id: string): Promise<AllocationRecord> {
  const record = isUuid(id) ? await lockAllocation(client, id) : undefined;
  if (!record) throw NotFound('Allocation');
  await requireManagingRole(client, record.projectId, actor, 'Allocation');
  return record;
}

async function viewOf(client: pg.PoolClient, id: string): Promise<AllocationView> {
  const view = await findAllocationView(client, id);
  // ci-allow canonical_error_guard: read inside the transaction that just locked the row
  if (!view) throw new Error(`allocation ${id} vanished inside its transaction`);
  return view;
}

/** Renames (null clears the name), in any state. */
export async function renameAllocation(deps: Deps, actor: Actor, id: string, name: string | null): Promise<AllocationView> {
  const issues = new Issues();
  issues.name('body.name', name);
  if (issues.list.length > 0) throw Validation(issues.list);
  return withTransaction(deps.pool, async (client) => {
    const record = await lockForManager(client, actor, id);
    await client.query('UPDATE compute.allocations SET name = $2, updated_at = now() WHERE id = $1', [record.id, name]);
    return viewOf(client, record.id);
  });
}

/**
 * Starts a release: requested/provisioning/active → releasing with its reason and a provisioning.releasing.requested
 * event (the worker queues the node's release task). Already releasing answers unchanged; a final state refuses.
 */
async function startRelease(client: pg.PoolClient, record: AllocationRecord, requestedBy: AllocationActor, reasonCode: string, correlationId: string) {
  if (record.state === 'releasing') return { record, changed: false };
  if (FINAL_STATES.includes(record.state)) {
    throw new AppError('invalid_state_transition', `The allocation is ${record.state} and cannot be released`, { state: record.state });
  }
  const moved = await moveAllocation(client, record, 'releasing', { reason: reasonCode, correlationId });
  await emitAllocationEvent(client, subjects.provisioningReleasingRequested, allocationEvents.releasingRequested(moved, requestedBy, reasonCode), correlationId);
  return { record: moved, changed: true };
}

/**
 * An operator's way out of a failed release: the allocation stays releasing (its slot held) until the node tears it
 * down, so announcing the release again makes the worker queue a fresh release task.
 */
async function retryRelease(client: pg.PoolClient, record: AllocationRecord, requestedBy: AllocationActor, correlationId: string) {
  const { rows } = await client.query<{ version: number }>(
    `UPDATE compute.allocations SET state_reason = 'admin_force_release', version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING version`,
    [record.id],
  );
  const retried = { ...record, stateReason: 'admin_force_release', version: rows[0]!.version };
  await emitAllocationEvent(client, subjects.provisioningReleasingRequested, allocationEvents.releasingRequested(retried, requestedBy, 'admin_force_release'), correlationId);
  return { record: retried, changed: true };
}

export async function releaseAllocation(deps: Deps, actor: Actor, id: string): Promise<AllocationView> {
  return withTransaction(deps.pool, async (client) => {
    const record = await lockForManager(client, actor, id);
    await startRelease(client, record, { kind: 'user', id: actor.userId }, 'user_release', actor.correlationId);
    return viewOf(client, record.id);
  });
}

/** Operator release of any tenant's allocation, audited as allocation.force_release in the same transaction. */
export async function adminForceReleaseAllocation(deps: Deps, actor: Actor, id: string, reason: string): Promise<AllocationView> {
  const trimmed = reason.trim();
  if (trimmed.length === 0 || trimmed.length > 500) throw Validation([{ field: 'body.reason', message: 'must be 1-500 characters' }]);
  return withTransaction(deps.pool, async (client) => {
    const record = isUuid(id) ? await lockAllocation(client, id) : undefined;
    if (!record) throw NotFound('Allocation');
    const requestedBy = { kind: 'admin', id: actor.userId } as const;
    const { record: after, changed } =
      record.state === 'releasing' && record.stateReason === 'release_failed'
        ? await retryRelease(client, record, requestedBy, actor.correlationId)
        : await startRelease(client, record, requestedBy, 'admin_force_release', actor.correlationId);
    if (changed) {
      // The force-release event tells the owner why (notifications); the worker finds it releasing and leaves it be.
      await emitAllocationEvent(
        client,
        subjects.provisioningForceReleaseRequested,
        allocationEvents.forceReleaseRequested(after, requestedBy, 'admin_force_release', trimmed),
        actor.correlationId,
      );
    }
    await recordAudit(client, {
      domain: 'compute',
      actorKind: 'admin',
      actorId: actor.userId,
      action: 'allocation.force_release',
      targetType: 'allocation',
      targetId: record.id,
      correlationId: actor.correlationId,
      details: { reason: trimmed, from_state: record.state, project_id: record.projectId, changed },
    });
    return viewOf(client, record.id);
  });
}

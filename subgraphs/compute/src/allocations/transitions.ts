import type pg from 'pg';
import { AppError } from '@gpuaas/errors';
import { prepared, uuidv7 } from '@gpuaas/db';
import type { AllocationRecord, AllocationStateName } from './model.js';
import { RECORD_COLUMNS, toRecord, type RecordRow } from './records.js';

const STAMP_COLUMN: { readonly [S in AllocationStateName]: string | null } = {
  requested: null,
  provisioning: 'provisioning_at',
  active: 'active_at',
  releasing: 'releasing_at',
  released: 'released_at',
  failed: 'failed_at',
  lost: 'lost_at',
};

export interface TransitionOptions {
  /** The new state reason; undefined keeps the current one, null clears it. */
  readonly reason?: string | null;
  readonly correlationId?: string | null;
}

/** What a move compares before it writes: the version the caller read under its lock, or the state it leaves. */
type MoveGuard = { readonly column: 'version'; readonly version: number; readonly from: AllocationStateName } | { readonly column: 'state'; readonly from: AllocationStateName };

/**
 * One statement (a data-modifying CTE) rather than two round trips: the move, stamped with the state's time column,
 * and its transition row, written only when the compare-and-set matched, in the same snapshot. The transition's
 * reason is the state reason the move leaves behind. Undefined when nothing matched.
 */
async function move(
  client: pg.PoolClient,
  allocationId: string,
  guard: MoveGuard,
  to: AllocationStateName,
  options: TransitionOptions,
): Promise<AllocationRecord | undefined> {
  const stamp = STAMP_COLUMN[to];
  const keepReason = options.reason === undefined;
  const { rows } = await client.query<RecordRow>(prepared(
    `WITH moved AS (
       UPDATE compute.allocations a
          SET state = $2, state_reason = CASE WHEN $4 THEN a.state_reason ELSE $3 END, version = a.version + 1,
              updated_at = now()${stamp ? `, ${stamp} = now()` : ''}
         FROM compute.regions r
        WHERE a.id = $1 AND a.${guard.column} = $5 AND r.id = a.region_id
    RETURNING ${RECORD_COLUMNS}
     ), noted AS (
       INSERT INTO compute.allocation_transitions (id, allocation_id, from_state, to_state, reason, correlation_id)
       SELECT $6, moved.id, $7, $2, moved.state_reason, $8 FROM moved
     )
     SELECT * FROM moved`,
    [
      allocationId,
      to,
      keepReason ? null : options.reason,
      keepReason,
      guard.column === 'version' ? guard.version : guard.from,
      uuidv7(),
      guard.from,
      options.correlationId ?? null,
    ],
  ));
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/**
 * Moves the allocation to `to` as a compare-and-set on its version (so a late writer can never overwrite a newer
 * state), stamps the state's time column and records the transition row, all in the caller's transaction. The
 * caller holds the row lock (lockAllocation) and has checked that the move is allowed.
 */
export async function moveAllocation(
  client: pg.PoolClient,
  record: AllocationRecord,
  to: AllocationStateName,
  options: TransitionOptions = {},
): Promise<AllocationRecord> {
  const moved = await move(client, record.id, { column: 'version', version: record.version, from: record.state }, to, options);
  // The caller holds the row lock, so a version mismatch means it worked on a stale copy: a bug, not a race.
  if (!moved) throw new AppError('conflict', 'The allocation changed while it was being updated', { allocation_id: record.id });
  return moved;
}

/**
 * Moves the allocation from `from` to `to` only if it is in `from` now: the compare-and-set is on the state, and
 * the UPDATE takes the row lock itself, so the result paths need no separate locking read first (a concurrent
 * writer is waited for and the state re-checked). Undefined when the allocation is missing or in another state.
 */
export function moveAllocationIfIn(
  client: pg.PoolClient,
  allocationId: string,
  from: AllocationStateName,
  to: AllocationStateName,
  options: TransitionOptions = {},
): Promise<AllocationRecord | undefined> {
  return move(client, allocationId, { column: 'state', from }, to, options);
}

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
  const stamp = STAMP_COLUMN[to];
  const keepReason = options.reason === undefined;
  // One statement (a data-modifying CTE) rather than two round trips: the transition row is written only when the
  // compare-and-set matched, in the same snapshot.
  const { rows } = await client.query<RecordRow>(prepared(
    `WITH moved AS (
       UPDATE compute.allocations a
          SET state = $2, state_reason = CASE WHEN $4 THEN a.state_reason ELSE $3 END, version = a.version + 1,
              updated_at = now()${stamp ? `, ${stamp} = now()` : ''}
         FROM compute.regions r
        WHERE a.id = $1 AND a.version = $5 AND r.id = a.region_id
    RETURNING ${RECORD_COLUMNS}
     ), noted AS (
       INSERT INTO compute.allocation_transitions (id, allocation_id, from_state, to_state, reason, correlation_id)
       SELECT $6, moved.id, $7, $2, $8, $9 FROM moved
     )
     SELECT * FROM moved`,
    [
      record.id,
      to,
      keepReason ? null : options.reason,
      keepReason,
      record.version,
      uuidv7(),
      record.state,
      keepReason ? record.stateReason : options.reason,
      options.correlationId ?? null,
    ],
  ));
  const moved = rows[0];
  // The caller holds the row lock, so a version mismatch means it worked on a stale copy: a bug, not a race.
  if (!moved) throw new AppError('conflict', 'The allocation changed while it was being updated', { allocation_id: record.id });
  return toRecord(moved);
}

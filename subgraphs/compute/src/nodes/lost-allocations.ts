import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';
import { createEnvelope } from '@gpuaas/events';
import { writeOutbox } from '@gpuaas/outbox';

interface LostRow {
  id: string;
  project_id: string;
  user_id: string;
  profile_id: string;
  region: string;
  node_id: string;
  slot_id: string | null;
  hourly_amount_minor: string;
  currency: string;
  requested_at: Date;
  active_at: Date | null;
  lost_at: Date;
  from_state: string;
  last_heartbeat_at: Date | null;
}

/**
 * Marks live allocations of a node `lost` inside the caller's transaction, each with its transition row and a
 * provisioning.lost event (billing stops metering at the node's last heartbeat; the owner is notified).
 * `onlyIds` narrows to allocations the agent no longer runs. Returns the ids marked.
 */
export async function markNodeAllocationsLost(
  client: pg.PoolClient,
  input: { nodeId: string; reason: string; correlationId: string; onlyIds?: readonly string[]; activeBefore?: Date },
): Promise<string[]> {
  const { rows } = await client.query<LostRow>(
    `WITH lost AS (
       SELECT a.id, a.state AS from_state FROM compute.allocations a
       WHERE a.node_id = $1 AND a.state IN ('requested', 'provisioning', 'active', 'releasing')
         AND ($3::uuid[] IS NULL OR a.id = ANY ($3::uuid[]))
         AND ($4::timestamptz IS NULL OR (a.state = 'active' AND a.active_at < $4))
       FOR UPDATE OF a)
     UPDATE compute.allocations a SET state = 'lost', state_reason = $2, lost_at = now(), version = a.version + 1, updated_at = now()
     FROM lost, compute.regions r, compute.nodes n
     WHERE a.id = lost.id AND r.id = a.region_id AND n.id = a.node_id
     RETURNING a.id, a.project_id, a.user_id, a.profile_id, r.code AS region, a.node_id, a.slot_id, a.hourly_amount_minor,
               a.currency, a.requested_at, a.active_at, a.lost_at, lost.from_state, n.last_heartbeat_at`,
    [input.nodeId, input.reason, input.onlyIds ?? null, input.activeBefore ?? null],
  );
  for (const row of rows) {
    await client.query(
      `INSERT INTO compute.allocation_transitions (id, allocation_id, from_state, to_state, reason, correlation_id)
       VALUES ($1, $2, $3, 'lost', $4, $5)`,
      [uuidv7(), row.id, row.from_state, input.reason, input.correlationId],
    );
    await writeOutbox(
      client,
      createEnvelope(
        'provisioning.lost',
        {
          allocation_id: row.id,
          project_id: row.project_id,
          user_id: row.user_id,
          profile_id: row.profile_id,
          region: row.region,
          node_id: row.node_id,
          slot_id: row.slot_id,
          hourly_price: { amount_minor: Number(row.hourly_amount_minor), currency: row.currency },
          requested_at: row.requested_at.toISOString(),
          active_at: row.active_at?.toISOString() ?? null,
          lost_at: row.lost_at.toISOString(),
          last_heartbeat_at: row.last_heartbeat_at?.toISOString() ?? null,
        },
        { correlationId: input.correlationId },
      ),
    );
  }
  return rows.map((row) => row.id);
}

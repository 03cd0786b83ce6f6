import type pg from 'pg';
import { prepared } from '@gpuaas/db';

export interface PlacedSlot {
  readonly slotId: string;
  readonly nodeId: string;
}

/**
 * Picks a free slot of the profile on an active node of the region and locks it; SKIP LOCKED lets concurrent
 * placements take different slots instead of queueing on the same one. The NOT EXISTS reads the statement's
 * snapshot, so a slot booked by a transaction that committed meanwhile can still come back here: the insert then
 * hits allocations_slot_live_key and the caller picks again (see createAllocation).
 */
export async function pickFreeSlot(client: pg.PoolClient, profileId: string, regionId: string): Promise<PlacedSlot | undefined> {
  const { rows } = await client.query<{ slot_id: string; node_id: string }>(prepared(
    `SELECT s.id AS slot_id, s.node_id
       FROM compute.slots s
       JOIN compute.nodes n ON n.id = s.node_id
      WHERE s.profile_id = $1 AND s.state = 'free' AND n.region_id = $2 AND n.state = 'active'
        AND NOT EXISTS (
          SELECT 1 FROM compute.allocations a
           WHERE a.slot_id = s.id AND a.state IN ('requested', 'provisioning', 'active', 'releasing'))
      ORDER BY s.node_id, s.node_gpu_id, s.placement_start
      LIMIT 1
      FOR UPDATE OF s SKIP LOCKED`,
    [profileId, regionId],
  ));
  const row = rows[0];
  return row ? { slotId: row.slot_id, nodeId: row.node_id } : undefined;
}

import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';
import { Validation } from '@gpuaas/errors';
import type { Db } from './db.js';

export interface ReportedGpu {
  readonly uuid: string;
  readonly index: number;
  readonly name: string;
  readonly memoryBytes: number;
  readonly migMode: 'enabled' | 'disabled' | 'unsupported';
}

export interface ReportedInstance {
  readonly profile: string;
  readonly placement: { start: number; size: number };
  readonly gpuInstanceId: number | null;
  readonly computeInstanceId: number | null;
  readonly migUuid: string | null;
}

export interface ReportedTopologyGpu extends ReportedGpu {
  readonly instances: readonly ReportedInstance[];
}

/** A whole card is booked as one slot spanning every memory slice. */
const WHOLE_CARD_PLACEMENT = { start: 0, size: 8 };

/** Records the node's GPUs (by GPU uuid), mapping each reported product name onto a catalog model when one matches. */
export async function upsertNodeGpus(client: pg.PoolClient, nodeId: string, gpus: readonly ReportedGpu[]): Promise<Map<string, { id: string; modelId: string | null }>> {
  const ids = new Map<string, { id: string; modelId: string | null }>();
  for (const gpu of gpus) {
    // Another GPU that held this index on the node (a swapped card) gives way.
    await client.query('DELETE FROM compute.node_gpus WHERE node_id = $1 AND device_index = $2 AND gpu_uuid <> $3', [nodeId, gpu.index, gpu.uuid]);
    const { rows } = await client.query<{ id: string; gpu_model_id: string | null }>(
      `INSERT INTO compute.node_gpus (id, node_id, device_index, gpu_uuid, gpu_model_id, model, memory_bytes, mig_mode)
       VALUES ($1, $2, $3, $4,
               (SELECT m.id FROM compute.gpu_models m
                WHERE lower(m.name) = lower($5) OR m.code = trim(both '-' from regexp_replace(lower($5), '[^a-z0-9]+', '-', 'g'))
                   OR lower($5) LIKE '%' || lower(m.name) || '%'
                ORDER BY (lower(m.name) = lower($5)) DESC, length(m.name) DESC LIMIT 1),
               $5, $6, $7)
       ON CONFLICT (gpu_uuid) DO UPDATE SET node_id = EXCLUDED.node_id, device_index = EXCLUDED.device_index,
         gpu_model_id = EXCLUDED.gpu_model_id, model = EXCLUDED.model, memory_bytes = EXCLUDED.memory_bytes,
         mig_mode = EXCLUDED.mig_mode, updated_at = now()
       RETURNING id, gpu_model_id`,
      [uuidv7(), nodeId, gpu.index, gpu.uuid, gpu.name, gpu.memoryBytes, gpu.migMode],
    );
    ids.set(gpu.uuid, { id: rows[0]!.id, modelId: rows[0]!.gpu_model_id });
  }
  return ids;
}

/** Parses a `discover_slice_topology` result (`{gpus: [...]}`, snake_case as the agent sends it). */
export function parseTopologyReport(result: Record<string, unknown> | null | undefined): ReportedTopologyGpu[] {
  const gpus = result?.['gpus'];
  if (!Array.isArray(gpus)) throw Validation([{ field: 'body.result.gpus', message: 'must be an array' }]);
  return gpus.map((raw, index) => {
    const gpu = raw as Record<string, unknown>;
    const field = `body.result.gpus[${index}]`;
    if (typeof gpu['uuid'] !== 'string' || typeof gpu['index'] !== 'number' || typeof gpu['name'] !== 'string' || typeof gpu['memory_bytes'] !== 'number') {
      throw Validation([{ field, message: 'needs uuid, index, name and memory_bytes' }]);
    }
    const migMode = gpu['mig_mode'] === 'enabled' ? 'enabled' : gpu['mig_mode'] === 'unsupported' ? 'unsupported' : 'disabled';
    const instances = Array.isArray(gpu['instances']) ? (gpu['instances'] as Array<Record<string, unknown>>) : [];
    return {
      uuid: gpu['uuid'],
      index: gpu['index'],
      name: gpu['name'],
      memoryBytes: gpu['memory_bytes'],
      migMode,
      instances: instances.map((instance, i) => {
        const placement = instance['placement'] as { start?: unknown; size?: unknown } | null | undefined;
        if (typeof instance['profile'] !== 'string' || typeof placement?.start !== 'number' || typeof placement.size !== 'number') {
          throw Validation([{ field: `${field}.instances[${i}]`, message: 'needs profile and placement {start, size}' }]);
        }
        return {
          profile: instance['profile'],
          placement: { start: placement.start, size: placement.size },
          gpuInstanceId: typeof instance['gpu_instance_id'] === 'number' ? instance['gpu_instance_id'] : null,
          computeInstanceId: typeof instance['compute_instance_id'] === 'number' ? instance['compute_instance_id'] : null,
          migUuid: typeof instance['mig_uuid'] === 'string' ? instance['mig_uuid'] : null,
        };
      }),
    };
  });
}

interface SlotRow {
  id: string;
  placement_start: number;
  profile_id: string;
  held: boolean;
  referenced: boolean;
}

/**
 * Replaces the node's slice topology with the agent's report, inside the caller's transaction: one slot per MIG
 * instance (profile matched by name within the card's catalog model) or one `whole` slot per card without MIG.
 * Slots holding live allocations are kept as they are; slots that disappeared are deleted, or disabled when an
 * allocation's history still points at them. A card whose model the catalog lacks gets no slots.
 */
export async function applyTopologyReport(client: pg.PoolClient, nodeId: string, gpus: readonly ReportedTopologyGpu[]): Promise<void> {
  const recorded = await upsertNodeGpus(client, nodeId, gpus);
  for (const gpu of gpus) {
    const { id: gpuId, modelId } = recorded.get(gpu.uuid)!;
    const existing = await client.query<SlotRow>(
      `SELECT s.id, s.placement_start, s.profile_id,
              EXISTS (SELECT 1 FROM compute.allocations a WHERE a.slot_id = s.id AND a.state IN ('requested', 'provisioning', 'active', 'releasing')) AS held,
              EXISTS (SELECT 1 FROM compute.allocations a WHERE a.slot_id = s.id) AS referenced
       FROM compute.slots s WHERE s.node_gpu_id = $1 FOR UPDATE OF s`,
      [gpuId],
    );
    // Instance ids move between slots on re-discovery; clear them first so the unique index never sees two.
    await client.query(
      `UPDATE compute.slots SET gpu_instance_id = NULL, compute_instance_id = NULL WHERE node_gpu_id = $1 AND NOT (id = ANY ($2::uuid[]))`,
      [gpuId, existing.rows.filter((slot) => slot.held).map((slot) => slot.id)],
    );
    const wanted = modelId === null ? [] : await desiredSlots(client, modelId, gpu);
    const byStart = new Map(existing.rows.map((slot) => [slot.placement_start, slot]));
    const kept = new Set<string>();
    for (const slot of wanted) {
      const current = byStart.get(slot.placement.start);
      if (current?.held) {
        kept.add(current.id);
        continue;
      }
      if (current) {
        kept.add(current.id);
        await client.query(
          `UPDATE compute.slots SET profile_id = $2, placement_size = $3, gpu_instance_id = $4, compute_instance_id = $5, mig_uuid = $6,
             state = 'free', updated_at = now() WHERE id = $1`,
          [current.id, slot.profileId, slot.placement.size, slot.gpuInstanceId, slot.computeInstanceId, slot.migUuid],
        );
      } else {
        await client.query(
          `INSERT INTO compute.slots (id, node_id, node_gpu_id, profile_id, placement_start, placement_size, gpu_instance_id, compute_instance_id, mig_uuid)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [uuidv7(), nodeId, gpuId, slot.profileId, slot.placement.start, slot.placement.size, slot.gpuInstanceId, slot.computeInstanceId, slot.migUuid],
        );
      }
    }
    for (const slot of existing.rows) {
      if (kept.has(slot.id) || slot.held) continue;
      if (slot.referenced) await client.query(`UPDATE compute.slots SET state = 'disabled', mig_uuid = NULL, updated_at = now() WHERE id = $1`, [slot.id]);
      else await client.query('DELETE FROM compute.slots WHERE id = $1', [slot.id]);
    }
  }
  await client.query('UPDATE compute.nodes SET topology_discovered_at = now(), updated_at = now() WHERE id = $1', [nodeId]);
}

async function desiredSlots(client: pg.PoolClient, modelId: string, gpu: ReportedTopologyGpu) {
  const { rows } = await client.query<{ id: string; name: string }>('SELECT id, name FROM compute.slice_profiles WHERE gpu_model_id = $1', [modelId]);
  const profiles = new Map(rows.map((row) => [row.name, row.id]));
  if (gpu.migMode !== 'enabled') {
    const whole = profiles.get('whole');
    return whole ? [{ profileId: whole, placement: WHOLE_CARD_PLACEMENT, gpuInstanceId: null, computeInstanceId: null, migUuid: null }] : [];
  }
  return gpu.instances.flatMap((instance) => {
    const profileId = profiles.get(instance.profile);
    return profileId ? [{ profileId, ...instance }] : [];
  });
}

export interface SliceInstanceView {
  readonly slotId: string;
  readonly gpuUuid: string;
  readonly profile: string;
  readonly placement: { start: number; size: number } | null;
  readonly gpuInstanceId: number | null;
  readonly computeInstanceId: number | null;
  readonly migUuid: string | null;
  readonly allocationId: string | null;
}

export interface SliceTopologyView {
  readonly nodeId: string;
  readonly discoveredAt: Date | null;
  readonly gpus: ReadonlyArray<{
    uuid: string;
    index: number;
    model: string;
    memoryBytes: number;
    migMode: 'enabled' | 'disabled';
    instances: SliceInstanceView[];
  }>;
}

export async function readSliceTopology(db: Db, nodeId: string): Promise<SliceTopologyView | undefined> {
  return (await readSliceTopologies(db, [nodeId])).get(nodeId);
}

/** The slice topology of several nodes in two queries (a node list shows each node's topology). Missing nodes are absent. */
export async function readSliceTopologies(db: Db, nodeIds: readonly string[]): Promise<Map<string, SliceTopologyView>> {
  const topologies = new Map<string, { nodeId: string; discoveredAt: Date | null; gpus: Map<string, SliceTopologyView['gpus'][number]> }>();
  if (nodeIds.length === 0) return new Map();
  const nodes = await db.query<{ id: string; topology_discovered_at: Date | null }>(
    'SELECT id, topology_discovered_at FROM compute.nodes WHERE id = ANY ($1::uuid[])',
    [nodeIds],
  );
  for (const node of nodes.rows) topologies.set(node.id, { nodeId: node.id, discoveredAt: node.topology_discovered_at, gpus: new Map() });
  const discovered = nodes.rows.filter((node) => node.topology_discovered_at !== null).map((node) => node.id);
  const { rows } = discovered.length === 0 ? { rows: [] } : await db.query<{
    node_id: string; gpu_id: string; uuid: string; index: number; model: string; memory_bytes: string; mig_mode: string;
    slot_id: string | null; profile: string | null; placement_start: number | null; placement_size: number | null;
    gpu_instance_id: number | null; compute_instance_id: number | null; mig_uuid: string | null; allocation_id: string | null;
  }>(
    `SELECT g.node_id, g.id AS gpu_id, g.gpu_uuid AS uuid, g.device_index AS index,
            COALESCE(m.code, trim(both '-' from regexp_replace(lower(g.model), '[^a-z0-9]+', '-', 'g'))) AS model,
            g.memory_bytes, g.mig_mode, s.id AS slot_id, p.name AS profile, s.placement_start, s.placement_size,
            s.gpu_instance_id, s.compute_instance_id, s.mig_uuid,
            (SELECT a.id FROM compute.allocations a WHERE a.slot_id = s.id AND a.state IN ('requested', 'provisioning', 'active', 'releasing') LIMIT 1) AS allocation_id
     FROM compute.node_gpus g
     LEFT JOIN compute.gpu_models m ON m.id = g.gpu_model_id
     LEFT JOIN compute.slots s ON s.node_gpu_id = g.id AND s.state = 'free'
     LEFT JOIN compute.slice_profiles p ON p.id = s.profile_id
     WHERE g.node_id = ANY ($1::uuid[])
     ORDER BY g.node_id, g.device_index, s.placement_start`,
    [discovered],
  );
  for (const row of rows) {
    const topology = topologies.get(row.node_id)!;
    let gpu = topology.gpus.get(row.gpu_id);
    if (!gpu) {
      gpu = { uuid: row.uuid, index: row.index, model: row.model, memoryBytes: Number(row.memory_bytes), migMode: row.mig_mode === 'enabled' ? 'enabled' : 'disabled', instances: [] };
      topology.gpus.set(row.gpu_id, gpu);
    }
    if (row.slot_id === null) continue;
    const whole = row.profile === 'whole';
    gpu.instances.push({
      slotId: row.slot_id,
      gpuUuid: row.uuid,
      profile: row.profile!,
      placement: whole ? null : { start: row.placement_start!, size: row.placement_size! },
      gpuInstanceId: whole ? null : row.gpu_instance_id,
      computeInstanceId: whole ? null : row.compute_instance_id,
      migUuid: whole ? null : row.mig_uuid,
      allocationId: row.allocation_id,
    });
  }
  return new Map([...topologies].map(([id, topology]) => [id, { nodeId: id, discoveredAt: topology.discoveredAt, gpus: [...topology.gpus.values()] }]));
}

import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';

/**
 * The demo catalog `npm start` seeds: two regions (with their locations), three GPU models with their MIG profiles and prices, and
 * one simulated node whose topology mixes a whole card and a MIG-partitioned card. Idempotent: rows are
 * found by their natural keys, so running it on every start changes nothing after the first time.
 */
const GIB = 1024 ** 3;

interface ModelSeed {
  code: string;
  name: string;
  memoryGib: number;
  migCapable: boolean;
  /** profile name → [memory GiB, compute sevenths, hourly price in cents] */
  profiles: Record<string, [number, number, number]>;
}

const regions = [
  { code: 'us-east', name: 'US East', location: 'Ashburn, Virginia, US' },
  { code: 'eu-west', name: 'EU West', location: 'Frankfurt, DE' },
];

const models: ModelSeed[] = [
  {
    code: 'h100-80gb', name: 'NVIDIA H100 80GB HBM3', memoryGib: 80, migCapable: true,
    profiles: { whole: [80, 7, 299], '1g.10gb': [10, 1, 49], '2g.20gb': [20, 2, 95], '3g.40gb': [40, 3, 139], '4g.40gb': [40, 4, 179], '7g.80gb': [80, 7, 289] },
  },
  {
    code: 'a100-80gb', name: 'NVIDIA A100 80GB PCIe', memoryGib: 80, migCapable: true,
    profiles: { whole: [80, 7, 189], '1g.10gb': [10, 1, 32], '2g.20gb': [20, 2, 60], '3g.40gb': [40, 3, 89], '7g.80gb': [80, 7, 179] },
  },
  { code: 'l40s-48gb', name: 'NVIDIA L40S', memoryGib: 48, migCapable: false, profiles: { whole: [48, 7, 99] } },
];

/**
 * The simulated node: GPU 0 whole, GPU 1 split 2g.20gb + 2g.20gb + 3g.40gb (a valid H100 MIG layout: 2g instances
 * start at memory slice 0, 2 or 4, 3g ones at 0 or 4).
 */
export const demoNode = {
  hostname: 'sim-node-1',
  region: 'us-east',
  gpus: [
    { index: 0, uuid: 'GPU-5f0c1a42-0000-4000-8000-000000000000', model: 'h100-80gb', mig: 'disabled', slots: [{ profile: 'whole', start: 0, size: 8 }] },
    {
      index: 1, uuid: 'GPU-5f0c1a42-0000-4000-8000-000000000001', model: 'h100-80gb', mig: 'enabled',
      slots: [
        { profile: '2g.20gb', start: 0, size: 2, gi: 3 },
        { profile: '2g.20gb', start: 2, size: 2, gi: 4 },
        { profile: '3g.40gb', start: 4, size: 4, gi: 2 },
      ],
    },
  ],
} as const;

async function idOf(client: pg.ClientBase, sql: string, params: unknown[]): Promise<string> {
  const { rows } = await client.query<{ id: string }>(sql, params);
  // ci-allow canonical_error_guard: dev seeding tool, never on a request path
  if (!rows[0]) throw new Error(`seed lookup found nothing: ${sql}`);
  return rows[0].id;
}

export async function seedDemoCatalog(client: pg.ClientBase): Promise<{ nodeId: string }> {
  await client.query('BEGIN');
  try {
    const regionIds: Record<string, string> = {};
    for (const region of regions) {
      // A database seeded before regions had a location gets one; an operator's own location is kept.
      await client.query(
        `INSERT INTO compute.regions (id, code, name, location) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO UPDATE SET location = EXCLUDED.location WHERE compute.regions.location = ''`,
        [uuidv7(), region.code, region.name, region.location],
      );
      regionIds[region.code] = await idOf(client, 'SELECT id FROM compute.regions WHERE code = $1', [region.code]);
    }
    const profileIds: Record<string, string> = {};
    const modelIds: Record<string, string> = {};
    for (const model of models) {
      await client.query(
        'INSERT INTO compute.gpu_models (id, code, name, memory_bytes, mig_capable) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING',
        [uuidv7(), model.code, model.name, model.memoryGib * GIB, model.migCapable],
      );
      const modelId = await idOf(client, 'SELECT id FROM compute.gpu_models WHERE code = $1', [model.code]);
      modelIds[model.code] = modelId;
      for (const [name, [memoryGib, sevenths, cents]] of Object.entries(model.profiles)) {
        await client.query(
          `INSERT INTO compute.slice_profiles (id, gpu_model_id, name, memory_bytes, compute_sevenths) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (gpu_model_id, name) DO NOTHING`,
          [uuidv7(), modelId, name, memoryGib * GIB, sevenths],
        );
        const profileId = await idOf(client, 'SELECT id FROM compute.slice_profiles WHERE gpu_model_id = $1 AND name = $2', [modelId, name]);
        profileIds[`${model.code}/${name}`] = profileId;
        for (const regionId of Object.values(regionIds)) {
          await client.query(
            `INSERT INTO compute.prices (id, profile_id, region_id, hourly_amount_minor, currency, effective_from)
             VALUES ($1, $2, $3, $4, 'USD', '2026-01-01T00:00:00Z') ON CONFLICT (profile_id, region_id, effective_from) DO NOTHING`,
            [uuidv7(), profileId, regionId, cents],
          );
        }
      }
    }
    const existingNode = await client.query<{ id: string }>("SELECT id FROM compute.nodes WHERE hostname = $1 AND state <> 'retired'", [demoNode.hostname]);
    let nodeId = existingNode.rows[0]?.id;
    if (!nodeId) {
      nodeId = uuidv7();
      await client.query(
        `INSERT INTO compute.nodes (id, hostname, region_id, state, driver, agent_version, last_heartbeat_at, labels)
         VALUES ($1, $2, $3, 'active', 'simulated', 'demo', now(), '{"demo": "true"}')`,
        [nodeId, demoNode.hostname, regionIds[demoNode.region]],
      );
      for (const gpu of demoNode.gpus) {
        const gpuId = uuidv7();
        await client.query(
          `INSERT INTO compute.node_gpus (id, node_id, device_index, gpu_uuid, gpu_model_id, model, memory_bytes, mig_mode)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [gpuId, nodeId, gpu.index, gpu.uuid, modelIds[gpu.model], models.find((m) => m.code === gpu.model)!.name, 80 * GIB, gpu.mig],
        );
        for (const slot of gpu.slots) {
          await client.query(
            `INSERT INTO compute.slots (id, node_id, node_gpu_id, profile_id, placement_start, placement_size, gpu_instance_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [uuidv7(), nodeId, gpuId, profileIds[`${gpu.model}/${slot.profile}`], slot.start, slot.size, 'gi' in slot ? slot.gi : null],
          );
        }
      }
    }
    await client.query('COMMIT');
    return { nodeId };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

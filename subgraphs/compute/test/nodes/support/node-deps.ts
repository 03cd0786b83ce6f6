import pg from 'pg';
import { resolvePolicies } from '@gpuaas/config';
import { uuidv7 } from '@gpuaas/db';
import { connectNats } from '@gpuaas/events';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, createTestRedis, testNamespace, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import type { ComputeConfig } from '../../../src/config.js';
import type { ComputeDeps } from '../../../src/deps.js';
import { createNode, registerNode, type AdminActor } from '../../../src/nodes/index.js';

export interface NodeTestDeps {
  readonly deps: ComputeDeps;
  readonly database: TestDatabase;
  readonly catalog: Catalog;
  close(): Promise<void>;
}

export interface Catalog {
  readonly regionId: string;
  readonly regionCode: string;
  readonly modelId: string;
  readonly profiles: Record<'whole' | '1g.10gb' | '3g.40gb', string>;
}

export const H100_NAME = 'NVIDIA H100 80GB HBM3';

/** Real Postgres (a fresh database), NATS (a private namespace) and Redis (a key prefix), plus a small catalog. */
export async function startNodeDeps(policyEnv: Record<string, string> = {}): Promise<NodeTestDeps> {
  const database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 8 });
  const nats = await connectNats(process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222', 'nodes-test');
  const redis: TestRedis = await createTestRedis();
  const config = { natsNamespace: testNamespace(), policies: resolvePolicies(policyEnv) } as ComputeConfig;
  const deps: ComputeDeps = { pool, nats, redis, logger: createLogger('nodes-test', 'silent'), config };
  const catalog = await seedCatalog(pool);
  return {
    deps,
    database,
    catalog,
    async close() {
      await nats.drain().catch(() => nats.close());
      await pool.end();
      await redis.cleanup();
      await database.drop();
    },
  };
}

async function seedCatalog(pool: pg.Pool): Promise<Catalog> {
  const regionId = uuidv7();
  const modelId = uuidv7();
  const regionCode = 'eu-test-1';
  await pool.query(`INSERT INTO compute.regions (id, code, name) VALUES ($1, $2, 'Test region')`, [regionId, regionCode]);
  await pool.query(`INSERT INTO compute.gpu_models (id, code, name, memory_bytes, mig_capable) VALUES ($1, 'h100-80gb', $2, 85899345920, true)`, [modelId, H100_NAME]);
  const profiles = {} as Record<'whole' | '1g.10gb' | '3g.40gb', string>;
  for (const [name, memory, sevenths] of [['whole', 85899345920, 7], ['1g.10gb', 10737418240, 1], ['3g.40gb', 42949672960, 3]] as const) {
    const id = uuidv7();
    await pool.query('INSERT INTO compute.slice_profiles (id, gpu_model_id, name, memory_bytes, compute_sevenths) VALUES ($1, $2, $3, $4, $5)', [id, modelId, name, memory, sevenths]);
    profiles[name] = id;
  }
  return { regionId, regionCode, modelId, profiles };
}

export function adminActor(): AdminActor {
  return { userId: uuidv7(), correlationId: `test-${uuidv7()}` };
}

let hostCounter = 0;

export function uniqueHostname(): string {
  hostCounter += 1;
  return `gpu-test-${process.pid}-${hostCounter}`;
}

export function gpu(index: number, migMode: 'enabled' | 'disabled' = 'disabled') {
  return { uuid: `GPU-${uuidv7()}`, index, name: H100_NAME, memoryBytes: 85899345920, migMode } as const;
}

/** Creates a node and registers it with its bootstrap token: an active node and its credential. */
export async function registeredNode(env: NodeTestDeps, gpus = [gpu(0)]) {
  const admin = adminActor();
  const hostname = uniqueHostname();
  const created = await createNode(env.deps, admin, { hostname, region: env.catalog.regionCode });
  const registration = await registerNode(env.deps, created.bootstrapToken, { hostname, agentVersion: '0.1.0', driver: 'simulated', gpus }, 'test');
  return { admin, hostname, created, registration, nodeId: registration.nodeId, credential: registration.nodeCredential, gpus };
}

/** A live allocation placed on a slot of the node, written straight to the table (the allocation area's job). */
export async function placeAllocation(env: NodeTestDeps, nodeId: string, slotId: string, state: 'active' | 'provisioning', activeAt = new Date()) {
  const id = uuidv7();
  await env.deps.pool.query(
    `INSERT INTO compute.allocations (id, project_id, user_id, name, profile_id, region_id, os_image_id, node_id, slot_id, state,
       hourly_amount_minor, currency, provisioning_at, active_at)
     VALUES ($1, $2, $3, 'test', $4, $5, $6, $7, $8, $9, 250, 'USD', now(), $10)`,
    [id, uuidv7(), uuidv7(), env.catalog.profiles.whole, env.catalog.regionId, uuidv7(), nodeId, slotId, state, state === 'active' ? activeAt : null],
  );
  return id;
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { uuidv7 } from '@gpuaas/db';
import { createGateway, loadGatewayConfig } from '@gpuaas/gateway';
import { createRestAdapter, defaultRestAdapterConfig } from '@gpuaas/rest-adapter';
import type { HttpService } from '@gpuaas/service-kit';
import { createAccessSubgraph, loadAccessConfig } from '@gpuaas/subgraph-access';
import { createBillingSubgraph, loadBillingConfig } from '@gpuaas/subgraph-billing';
import { createComputeSubgraph, loadComputeConfig } from '@gpuaas/subgraph-compute';
import { createPlatformSubgraph, loadPlatformConfig } from '@gpuaas/subgraph-platform';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '@gpuaas/subgraph-workloads';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, createTestRedis, testNamespace, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import { createWorkers, loadWorkersConfig } from '@gpuaas/workers';
import { subgraphUrlEnv } from './subgraph-urls.js';

const IDENTITY_SECRET = 'e2e-gateway-identity-secret-0123456789abcdef';

export interface ComputeStack {
  /** The REST adapter's origin. */
  readonly restUrl: string;
  /** The gateway's `/graphql` URL. */
  readonly graphqlUrl: string;
  /** A pool on this stack's database: what an operator or a node does outside the public API (seeding capacity). */
  readonly db: pg.Pool;
  /** NATS subjects and streams of this stack live under this namespace. */
  readonly natsNamespace: string;
  promoteToAdmin(email: string): Promise<void>;
  /** What an operator and the agents' discovery would set up: a priced region with `slots` free whole-card slots. */
  seedCapacity(slots: number): Promise<Capacity>;
  close(): Promise<void>;
}

export interface Capacity {
  readonly regionCode: string;
  readonly gpuModelCode: string;
  readonly profileId: string;
  readonly osImageId: string;
  readonly nodeId: string;
  readonly slotIds: string[];
}

export interface ComputeStackOptions {
  /** Extra environment for every part (policies such as `POLICY_MAX_LIVE_ALLOCATIONS_PER_USER`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Worker roles to run beside the servers (the outbox relay and the provisioning worker by default). */
  readonly workerRoles?: string;
}

/**
 * The compute path end to end in this process on free ports: a fresh migrated database, the subgraphs, gateway and
 * REST adapter, plus the workers (outbox relay → NATS JetStream under a namespace of its own → provisioning worker).
 * The node side (an agent) joins later; until then tests complete node tasks themselves.
 */
export async function startComputeStack(options: ComputeStackOptions = {}): Promise<ComputeStack> {
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    const database: TestDatabase = await createTestDatabase();
    closers.push(() => database.drop());
    const redis: TestRedis = await createTestRedis();
    closers.push(() => redis.cleanup());
    const db = new pg.Pool({ connectionString: database.url, max: 4 });
    closers.push(() => db.end());
    const natsNamespace = testNamespace();

    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      NATS_URL: process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: natsNamespace,
      // These stacks are not about money: without a wallet, billing's admission check would refuse every allocation.
      POLICY_MIN_RUNWAY_FOR_NEW_ALLOCATION_SECONDS: '0',
      GATEWAY_IDENTITY_SECRET: IDENTITY_SECRET,
      ...options.env,
    };
    const track = async <S extends { close(): Promise<void> }>(service: Promise<S>): Promise<S> => {
      const started = await service;
      closers.push(() => started.close());
      return started;
    };
    await track(createWorkers(loadWorkersConfig({ ...env, WORKER_ROLES: options.workerRoles ?? 'outbox-relay,provisioning-worker', OUTBOX_POLL_INTERVAL_MS: '50' })));
    const access: HttpService = await track(createAccessSubgraph(loadAccessConfig(env)));
    const compute = await track(createComputeSubgraph(loadComputeConfig(env)));
    const billing = await track(createBillingSubgraph(loadBillingConfig(env)));
    const workloads = await track(createWorkloadsSubgraph(loadWorkloadsConfig(env)));
    const platform = await track(createPlatformSubgraph(loadPlatformConfig(env)));
    // The REST adapter embeds the gateway's engine on these same settings, as production runs it.
    const gatewayConfig = loadGatewayConfig({
      ...env,
      ...subgraphUrlEnv({ access, compute, billing, workloads, platform }),
    });
    const gateway = await track(createGateway(gatewayConfig));
    const rest = await track(
      createRestAdapter(
        defaultRestAdapterConfig({ port: 0, logLevel: 'silent', nodeEnv: 'test', gatewayMode: 'embedded', gateway: gatewayConfig, redisUrl: redis.url, redisKeyPrefix: redis.keyPrefix }),
        { logger: createLogger('rest-adapter-e2e', 'silent') },
      ),
    );
    return {
      restUrl: rest.url,
      graphqlUrl: `${gateway.url}/graphql`,
      db,
      natsNamespace,
      async promoteToAdmin(email) {
        const { rowCount } = await db.query("UPDATE access.users SET role = 'admin', updated_at = now() WHERE lower(email) = lower($1)", [email]);
        // ci-allow canonical_error_guard: test set-up
        if (rowCount !== 1) throw new Error(`no user ${email} to promote`);
      },
      seedCapacity: (slots) => seedCapacity(db, slots),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function seedCapacity(db: pg.Pool, slots: number): Promise<Capacity> {
  const tag = randomBytes(4).toString('hex');
  const [regionId, gpuModelId, profileId, osImageId, nodeId] = [uuidv7(), uuidv7(), uuidv7(), uuidv7(), uuidv7()];
  await db.query('INSERT INTO compute.regions (id, code, name) VALUES ($1, $2, $3)', [regionId, `eu-${tag}`, `Europe ${tag}`]);
  await db.query("INSERT INTO compute.gpu_models (id, code, name, memory_bytes) VALUES ($1, $2, 'NVIDIA H100 80GB', 85899345920)", [gpuModelId, `h100-${tag}`]);
  await db.query("INSERT INTO compute.slice_profiles (id, gpu_model_id, name, memory_bytes, compute_sevenths) VALUES ($1, $2, 'whole', 85899345920, 7)", [profileId, gpuModelId]);
  await db.query("INSERT INTO compute.prices (id, profile_id, region_id, hourly_amount_minor, currency, effective_from) VALUES ($1, $2, $3, 249, 'USD', now() - interval '1 hour')", [uuidv7(), profileId, regionId]);
  await db.query("INSERT INTO platform.os_images (id, name, version, family, image_ref) VALUES ($1, $2, '2026.11', 'ubuntu', 'ubuntu:22.04')", [osImageId, `Ubuntu 22.04 CUDA ${tag}`]);
  await db.query("INSERT INTO compute.nodes (id, hostname, region_id, state) VALUES ($1, $2, $3, 'active')", [nodeId, `gpu-${tag}`, regionId]);
  const slotIds: string[] = [];
  for (let index = 0; index < slots; index++) {
    const gpuId = uuidv7();
    await db.query(
      "INSERT INTO compute.node_gpus (id, node_id, device_index, gpu_uuid, gpu_model_id, model, memory_bytes, mig_mode) VALUES ($1, $2, $3, $4, $5, 'H100', 85899345920, 'disabled')",
      [gpuId, nodeId, index, `GPU-${tag}-${index.toString(16).padStart(4, '0')}`, gpuModelId],
    );
    const slotId = uuidv7();
    await db.query('INSERT INTO compute.slots (id, node_id, node_gpu_id, profile_id, placement_start, placement_size) VALUES ($1, $2, $3, $4, 0, 7)', [slotId, nodeId, gpuId, profileId]);
    slotIds.push(slotId);
  }
  return { regionCode: `eu-${tag}`, gpuModelCode: `h100-${tag}`, profileId, osImageId, nodeId, slotIds };
}

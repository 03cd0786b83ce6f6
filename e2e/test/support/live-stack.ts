import pg from 'pg';
import { createGateway, loadGatewayConfig } from '@gpuaas/gateway';
import type { HttpService } from '@gpuaas/service-kit';
import { createAccessSubgraph, loadAccessConfig } from '@gpuaas/subgraph-access';
import { createBillingSubgraph, loadBillingConfig } from '@gpuaas/subgraph-billing';
import { createComputeSubgraph, loadComputeConfig } from '@gpuaas/subgraph-compute';
import { createPlatformSubgraph, loadPlatformConfig } from '@gpuaas/subgraph-platform';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '@gpuaas/subgraph-workloads';
import { createTestDatabase, createTestRedis, testNamespace } from '@gpuaas/testkit';
import { createWorkers, loadWorkersConfig } from '@gpuaas/workers';
import { subgraphUrlEnv } from './subgraph-urls.js';

const IDENTITY_SECRET = 'e2e-live-gateway-identity-secret-0123456789ab';

/** One front door: a gateway and the compute subgraph replica behind it. */
export interface LiveReplica {
  readonly gatewayUrl: string;
  readonly graphqlUrl: string;
  readonly compute: HttpService;
}

export interface LiveStack {
  readonly replicas: readonly LiveReplica[];
  /** A pool on the stack's database (seeding capacity, promoting an admin). */
  readonly db: pg.Pool;
  readonly natsNamespace: string;
  close(): Promise<void>;
}

/**
 * Several replicas of the live path over one database, Redis prefix and NATS namespace: each replica is its own
 * gateway + compute subgraph (the processes that hold subscribers), sharing the other subgraphs, plus the outbox relay
 * (workers) that turns committed outbox rows into PROVISIONING events. A change written through one replica must
 * reach a subscriber on another only through the outbox → JetStream path.
 */
export async function startLiveStack(options: { replicas?: number; workerRoles?: string } = {}): Promise<LiveStack> {
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  const track = async <S extends { close(): Promise<void> }>(service: Promise<S>): Promise<S> => {
    const started = await service;
    closers.push(() => started.close());
    return started;
  };
  try {
    const database = await createTestDatabase();
    closers.push(() => database.drop());
    const redis = await createTestRedis();
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
    };
    await track(createWorkers(loadWorkersConfig({ ...env, WORKER_ROLES: options.workerRoles ?? 'outbox-relay', OUTBOX_POLL_INTERVAL_MS: '200' })));
    const access = await track(createAccessSubgraph(loadAccessConfig(env)));
    const billing = await track(createBillingSubgraph(loadBillingConfig(env)));
    const workloads = await track(createWorkloadsSubgraph(loadWorkloadsConfig(env)));
    const platform = await track(createPlatformSubgraph(loadPlatformConfig(env)));
    const replicas: LiveReplica[] = [];
    for (let index = 0; index < (options.replicas ?? 2); index++) {
      const compute = await track(createComputeSubgraph(loadComputeConfig(env)));
      const gateway = await track(
        createGateway(
          loadGatewayConfig({
            ...env,
            ...subgraphUrlEnv({ access, compute, billing, workloads, platform }),
          }),
        ),
      );
      replicas.push({ gatewayUrl: gateway.url, graphqlUrl: `${gateway.url}/graphql`, compute });
    }
    return { replicas, db, natsNamespace, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

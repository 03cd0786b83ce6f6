import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createAgent, loadAgentConfig, type Agent, type SimulatedLayout } from '@gpuaas/agent';
import { createGateway, loadGatewayConfig } from '@gpuaas/gateway';
import { createRestAdapter, loadRestAdapterConfig } from '@gpuaas/rest-adapter';
import { createAccessSubgraph, loadAccessConfig } from '@gpuaas/subgraph-access';
import { createBillingSubgraph, loadBillingConfig } from '@gpuaas/subgraph-billing';
import { createComputeSubgraph, loadComputeConfig } from '@gpuaas/subgraph-compute';
import { createPlatformSubgraph, loadPlatformConfig } from '@gpuaas/subgraph-platform';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '@gpuaas/subgraph-workloads';
import { createTestDatabase, createTestRedis, startPrivateNats, testNamespace } from '@gpuaas/testkit';
import { createWorkers, loadWorkersConfig } from '@gpuaas/workers';
import { seedDemoCatalog } from '../../../subgraphs/compute/src/seed/demo-catalog.js';
import { seedDemoOsImages } from '../../../subgraphs/platform/src/seed/demo-os-images.js';
import { restCall } from './rest-client.js';
import { subgraphUrlEnv } from './subgraph-urls.js';

const IDENTITY_SECRET = 'e2e-platform-gateway-identity-secret-0123456789';
export const PLATFORM_PASSWORD = 'correct-horse-battery-staple-42';
/** The demo catalog's model every simulated card of the stack's node reports (the agent's default card). */
export const NODE_GPU_MODEL = 'h100-80gb';
/**
 * The stack's node lives in the demo catalog's second region: the catalog seeds its own `sim-node-1` in `us-east`
 * with slots but no agent, so placement in `eu-west` can only pick the node whose agent runs here.
 */
export const NODE_REGION = 'eu-west';

/** Three H100s split into seven 1g.10gb slices each, plus one whole H100: 21 + 1 slots. */
export const defaultPlatformLayout: SimulatedLayout = {
  gpus: [
    { name: 'NVIDIA H100 80GB HBM3', memory_gib: 80, count: 3, mig: Array.from({ length: 7 }, () => '1g.10gb') },
    { name: 'NVIDIA H100 80GB HBM3', memory_gib: 80, count: 1 },
  ],
};

export interface PlatformOperator {
  readonly userId: string;
  readonly email: string;
  /** An access token carrying the platform admin role. */
  readonly token: string;
}

export interface PlatformNode {
  readonly id: string;
  readonly hostname: string;
  readonly region: string;
}

export interface PlatformStack {
  /** The REST adapter's origin (`/api/v1`, `/internal/v1`, `/terminal`). */
  readonly restUrl: string;
  /** The gateway's origin; `/graphql` serves HTTP and graphql-ws. */
  readonly gatewayUrl: string;
  readonly graphqlUrl: string;
  /** A pool on the stack's database, for assertions an operator would make with SQL (audit rows). */
  readonly db: pg.Pool;
  readonly natsUrl: string;
  readonly natsNamespace: string;
  /** The platform admin who created the node over REST. */
  readonly operator: PlatformOperator;
  /** The node the simulated agent registered as. */
  readonly node: PlatformNode;
  readonly agent: Agent;
  /** The agent's data directory (allocations' working directories, where terminals start). */
  readonly agentDataDir: string;
  close(): Promise<void>;
}

export interface PlatformStackOptions {
  readonly layout?: SimulatedLayout;
  /** Task loops of the agent (AGENT_MAX_CONCURRENT_TASKS). */
  readonly agentConcurrency?: number;
  readonly agentTelemetryIntervalSeconds?: number;
  /** Worker roles (WORKER_ROLES); every role by default. */
  readonly workerRoles?: string;
  /** How often the outbox relay polls when no NOTIFY woke it (OUTBOX_POLL_INTERVAL_MS). */
  readonly outboxPollIntervalMs?: number;
  /** Extra environment for every part (policies). */
  readonly env?: Readonly<Record<string, string>>;
  readonly logLevel?: string;
}

/**
 * The whole platform in this process on free ports, from a fresh start: a fresh migrated database seeded with the
 * demo catalog and OS images, a private NATS JetStream server, Redis under a prefix of its own, the five subgraphs,
 * the gateway (with its graphql-ws bridge), the REST adapter with its database connection (so the node-agent API
 * `/internal/v1` and the terminal relay are served), the workers with every role, and a real simulated node agent
 * at zero provisioning delay with browser terminals. The node joins as an operator would: a platform admin creates
 * it over REST (`adminCreateNode`), and the agent registers with the bootstrap token that answer carries; the stack
 * is ready once the agent's first topology discovery has turned its cards into slots.
 */
export async function startPlatformStack(options: PlatformStackOptions = {}): Promise<PlatformStack> {
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
    const { database, redis, nats, db } = await startSeededBackingServices(closers);

    const natsNamespace = testNamespace();
    // The terminal token's ws_url names the REST adapter, which starts last: its port is chosen up front.
    const restPort = await freePort();
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: options.logLevel ?? 'silent',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      NATS_URL: nats.url,
      NATS_NAMESPACE: natsNamespace,
      GATEWAY_IDENTITY_SECRET: IDENTITY_SECRET,
      TERMINAL_WS_BASE_URL: `ws://127.0.0.1:${restPort}`,
      ...options.env,
    };
    await track(
      createWorkers(loadWorkersConfig({ ...env, WORKER_ROLES: options.workerRoles ?? 'all', OUTBOX_POLL_INTERVAL_MS: String(options.outboxPollIntervalMs ?? 50) })),
    );
    const access = await track(createAccessSubgraph(loadAccessConfig(env)));
    const compute = await track(createComputeSubgraph(loadComputeConfig(env)));
    const billing = await track(createBillingSubgraph(loadBillingConfig(env)));
    const workloads = await track(createWorkloadsSubgraph(loadWorkloadsConfig(env)));
    const platform = await track(createPlatformSubgraph(loadPlatformConfig(env)));
    const subgraphUrls = subgraphUrlEnv({ access, compute, billing, workloads, platform });
    const gateway = await track(createGateway(loadGatewayConfig({ ...env, ...subgraphUrls })));
    // The REST adapter runs the gateway's engine in process on the same settings, as `npm start` does.
    const rest = await track(createRestAdapter(loadRestAdapterConfig({ ...env, ...subgraphUrls, PORT: String(restPort), GATEWAY_MODE: 'embedded' })));

    const operator = await newOperator(rest.url, db);
    const { hostname, node, bootstrapToken } = await createNodeOverRest(rest.url, operator.token, 'sim-e2e', { e2e: 'platform' });

    const agentDataDir = await mkdtemp(join(tmpdir(), 'gpuaas-platform-agent-'));
    closers.push(() => rm(agentDataDir, { recursive: true, force: true }));
    const agentConfig = loadAgentConfig([], {
      NODE_ENV: 'test',
      LOG_LEVEL: options.logLevel ?? 'silent',
      CONTROL_PLANE_URL: rest.url,
      BOOTSTRAP_TOKEN: bootstrapToken,
      AGENT_DRIVER: 'simulated',
      AGENT_HOSTNAME: hostname,
      AGENT_DATA_DIR: agentDataDir,
      AGENT_MAX_CONCURRENT_TASKS: String(options.agentConcurrency ?? 4),
      AGENT_TELEMETRY_INTERVAL_SECONDS: String(options.agentTelemetryIntervalSeconds ?? 1),
      SIMULATED_LAYOUT: JSON.stringify(options.layout ?? defaultPlatformLayout),
      SIMULATED_PROVISION_DELAY_MS: '0',
    });
    const agent = createAgent({ ...agentConfig, healthServer: false, backoff: { initialMs: 50, maxMs: 1000 } });
    await agent.start();
    closers.push(() => agent.stop());
    const nodeId = await agent.whenRegistered();
    // ci-allow canonical_error_guard: test set-up
    if (nodeId !== node.id) throw new Error(`the agent registered as ${nodeId}, not the created node ${node.id}`);
    await until('the first slice-topology discovery', async () => {
      const { rows } = await db.query<{ slots: number }>(
        `SELECT count(s.id)::int AS slots FROM compute.nodes n JOIN compute.slots s ON s.node_id = n.id
         WHERE n.id = $1 AND n.topology_discovered_at IS NOT NULL`,
        [nodeId],
      );
      return (rows[0]?.slots ?? 0) > 0 ? true : undefined;
    });

    return {
      restUrl: rest.url,
      gatewayUrl: gateway.url,
      graphqlUrl: `${gateway.url}/graphql`,
      db,
      natsUrl: nats.url,
      natsNamespace,
      operator,
      node: { id: nodeId, hostname, region: NODE_REGION },
      agent,
      agentDataDir,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * A fresh migrated database seeded with the demo catalog and OS images, a Redis key prefix and a private nats-server,
 * plus a small pool on the database; each registers its own clean-up in `closers` (run them in reverse).
 */
export async function startSeededBackingServices(closers: Array<() => Promise<void>>) {
  const database = await createTestDatabase();
  closers.push(() => database.drop());
  const redis = await createTestRedis();
  closers.push(() => redis.cleanup());
  const nats = await startPrivateNats();
  closers.push(() => nats.stop());
  const db = new pg.Pool({ connectionString: database.url, max: 4 });
  closers.push(() => db.end());
  const seeding = await db.connect();
  try {
    await seedDemoCatalog(seeding);
    await seedDemoOsImages(seeding);
  } finally {
    seeding.release();
  }
  return { database, redis, nats, db };
}

/** A user registered over REST and promoted in access.users, as an operator bootstrap does; signed in again to carry the role. */
/** An operator creates a node in NODE_REGION over REST (adminCreateNode) for an agent to register with its token. */
export async function createNodeOverRest(restUrl: string, operatorToken: string, hostnamePrefix: string, labels: Record<string, string>) {
  const hostname = `${hostnamePrefix}-${randomUUID().slice(0, 8)}`;
  const created = await restCall(restUrl, 'adminCreateNode', 'POST', '/api/v1/admin/nodes', {
    token: operatorToken,
    body: { hostname, region: NODE_REGION, labels },
    headers: { 'x-idempotency-key': randomUUID() },
  });
  // ci-allow canonical_error_guard: test and benchmark set-up
  if (created.status !== 201) throw new Error(`adminCreateNode answered ${created.status}: ${created.text}`);
  const { node, bootstrap_token: bootstrapToken } = created.json as { node: { id: string }; bootstrap_token: string };
  return { hostname, node, bootstrapToken };
}

export async function newOperator(restUrl: string, db: pg.Pool): Promise<PlatformOperator> {
  const email = `operator-${randomUUID().slice(0, 8)}@example.com`;
  const registered = await restCall(restUrl, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', {
    body: { email, password: PLATFORM_PASSWORD, display_name: 'Operator' },
  });
  // ci-allow canonical_error_guard: test set-up
  if (registered.status !== 201) throw new Error(`registering the operator answered ${registered.status}: ${registered.text}`);
  const userId = (registered.json as { user: { id: string } }).user.id;
  await db.query("UPDATE access.users SET role = 'admin', updated_at = now() WHERE id = $1", [userId]);
  const login = await restCall(restUrl, 'loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email, password: PLATFORM_PASSWORD } });
  // ci-allow canonical_error_guard: test set-up
  if (login.status !== 200) throw new Error(`the operator's login answered ${login.status}: ${login.text}`);
  return { userId, email, token: (login.json as { access_token: string }).access_token };
}

/** Polls `probe` until it yields a value, or fails after `timeoutMs`. */
export async function until<T>(what: string | (() => string), probe: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    // ci-allow canonical_error_guard: test timeout
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A port free right now on the loopback interface (for a service whose URL must be known before it starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

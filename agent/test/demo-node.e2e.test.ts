import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePolicies } from '@gpuaas/config';
import { createRestAdapter, defaultRestAdapterConfig, type RestAdapter } from '@gpuaas/rest-adapter';
import { createLogger } from '@gpuaas/telemetry';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { demoNode, seedDemoCatalog } from '../../subgraphs/compute/src/seed/demo-catalog.js';
import { ensureDemoNode } from '../../subgraphs/compute/src/seed/demo-node.js';
import { startNodeDeps, type NodeTestDeps } from '../../subgraphs/compute/test/nodes/support/node-deps.js';
import { createAgent, readAgentState, type Agent, type SimulatedLayout } from '../src/index.js';
import { until } from './support/control-plane-world.js';

let env: NodeTestDeps;
let redis: TestRedis;
let adapter: RestAdapter;
let dir: string;
const agents: Agent[] = [];

beforeAll(async () => {
  env = await startNodeDeps();
  redis = await createTestRedis();
  const client = await env.deps.pool.connect();
  try {
    await seedDemoCatalog(client);
  } finally {
    client.release();
  }
  adapter = await createRestAdapter(
    defaultRestAdapterConfig({
      port: 0,
      logLevel: 'silent',
      nodeEnv: 'test',
      databaseUrl: env.database.url,
      natsNamespace: env.deps.config.natsNamespace,
      redisKeyPrefix: redis.keyPrefix,
      // Short polls: a revoked credential shows on the agent's next poll.
      policies: { ...resolvePolicies({}), task_wait_max_seconds: 1 },
    }),
    { redis, logger: createLogger('demo-node-test-rest', 'silent') },
  );
  dir = await mkdtemp(join(tmpdir(), 'demo-node-'));
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await adapter?.close();
  await redis?.cleanup();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function startDevAgent(stateFile: string, bootstrapToken: string | undefined, layout: unknown): Agent {
  const agent = createAgent({
    nodeEnv: 'test',
    logLevel: 'silent',
    controlPlaneUrl: adapter.url,
    bootstrapToken,
    stateFile,
    driver: 'simulated',
    hostname: demoNode.hostname,
    maxConcurrentTasks: 1,
    telemetryIntervalSeconds: 10,
    // The dev launcher passes it as SIMULATED_LAYOUT text.
    simulated: { layout: JSON.parse(JSON.stringify(layout)) as SimulatedLayout, provisionDelayMs: 0, failureRate: 0 },
    healthHost: '127.0.0.1',
    healthPort: 0,
    healthServer: false,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  agents.push(agent);
  void agent.start();
  return agent;
}

async function auditCount(nodeId: string, action: string): Promise<number> {
  const { rows } = await env.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM infra.audit_logs WHERE target_id = $1 AND action = $2', [nodeId, action]);
  return rows[0]!.n;
}

describe('the dev launcher\'s demo node', () => {
  const stateFile = () => join(dir, 'agent', 'sim-node-1.json');

  it('hands the agent a bootstrap token for the seeded node, and discovery reproduces the demo layout', async () => {
    const seeded = await env.deps.pool.query<{ id: string }>('SELECT id FROM compute.nodes WHERE hostname = $1', [demoNode.hostname]);
    const demo = await ensureDemoNode(env.deps);
    expect(demo.nodeId).toBe(seeded.rows[0]!.id);
    expect(demo.bootstrapToken).toEqual(expect.any(String));

    const agent = startDevAgent(stateFile(), demo.bootstrapToken, demo.layout);
    expect(await agent.whenRegistered()).toBe(demo.nodeId);
    await until('discovery', async () => {
      const { rows } = await env.deps.pool.query<{ done: boolean }>('SELECT topology_discovered_at IS NOT NULL AS done FROM compute.nodes WHERE id = $1', [demo.nodeId]);
      return rows[0]!.done;
    });
    const { rows } = await env.deps.pool.query<{ index: number; gpu_uuid: string; profile: string; start: number; size: number }>(
      `SELECT g.device_index AS index, g.gpu_uuid, p.name AS profile, s.placement_start AS start, s.placement_size AS size
         FROM compute.slots s JOIN compute.node_gpus g ON g.id = s.node_gpu_id JOIN compute.slice_profiles p ON p.id = s.profile_id
        WHERE s.node_id = $1 AND s.state = 'free' ORDER BY g.device_index, s.placement_start`,
      [demo.nodeId],
    );
    expect(rows.map(({ index, profile, start, size }) => ({ index, profile, start, size }))).toEqual(
      demoNode.gpus.flatMap((gpu) => gpu.slots.map((slot) => ({ index: gpu.index, profile: slot.profile, start: slot.start, size: slot.size }))).sort((a, b) => a.index - b.index || a.start - b.start),
    );
    // The agent's devices replace the seed's placeholders.
    expect(rows.some((row) => demoNode.gpus.some((gpu) => gpu.uuid === row.gpu_uuid))).toBe(false);
  });

  it('lets a restarted agent keep its stored credential', async () => {
    const stored = (await readAgentState(stateFile()))!;
    const demo = await ensureDemoNode(env.deps, stored);
    expect(demo.bootstrapToken).toBeUndefined();
    expect(await auditCount(demo.nodeId, 'node.credential_revoke')).toBe(0);
  });

  it('replaces a credential the database does not know with a fresh token', async () => {
    const stored = (await readAgentState(stateFile()))!;
    const running = agents[0]!;
    const demo = await ensureDemoNode(env.deps, { nodeId: stored.nodeId, nodeCredential: 'nc_0000.not-the-real-credential' });
    expect(demo.bootstrapToken).toEqual(expect.any(String));
    expect(await auditCount(demo.nodeId, 'node.credential_revoke')).toBe(1);
    // The old credential is void: the agent holding it stops by itself.
    await running.done;
    expect(running.status).toBe('revoked');

    await rm(stateFile(), { force: true });
    const fresh = startDevAgent(stateFile(), demo.bootstrapToken, demo.layout);
    expect(await fresh.whenRegistered()).toBe(demo.nodeId);
    expect(await auditCount(demo.nodeId, 'node.register')).toBe(2);
  });

  it('creates the node when none is left', async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    await env.deps.pool.query(`UPDATE compute.nodes SET state = 'retired', retired_at = now() WHERE hostname = $1`, [demoNode.hostname]);
    const demo = await ensureDemoNode(env.deps);
    expect(demo.bootstrapToken).toEqual(expect.any(String));
    const { rows } = await env.deps.pool.query<{ state: string; region: string }>(
      'SELECT n.state, r.code AS region FROM compute.nodes n JOIN compute.regions r ON r.id = n.region_id WHERE n.id = $1',
      [demo.nodeId],
    );
    expect(rows[0]).toEqual({ state: 'pending', region: demoNode.region });
    expect(await auditCount(demo.nodeId, 'node.create')).toBe(1);
  });
});

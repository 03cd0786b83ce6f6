import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePolicies } from '@gpuaas/config';
import { createRestAdapter, defaultRestAdapterConfig, type RestAdapter } from '@gpuaas/rest-adapter';
import { createNode } from '@gpuaas/subgraph-compute/nodes';
import { createLogger } from '@gpuaas/telemetry';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { createAllocation } from '../../subgraphs/compute/src/allocations/create.js';
import { handleProvisioningEvent } from '../../subgraphs/compute/src/allocations/provisioning.js';
import { adminActor, H100_NAME, startNodeDeps, uniqueHostname, type NodeTestDeps } from '../../subgraphs/compute/test/nodes/support/node-deps.js';
import { createAgent, type Agent, type AgentOptions, type SimulatedLayout } from '../src/index.js';
import { requestedEvent, seedTenant, tasksOf, until } from './support/control-plane-world.js';

/** Short enough that an abandoned task comes back within the test. */
const LEASE_SECONDS = 2;
/** Much longer than a second, so a pickup within a second is the wake's doing, not a fresh poll's. */
const WAIT_SECONDS = 10;

/** GPU 0 split 3g.40gb + 1g.10gb + 1g.10gb (MIG on), GPU 1 whole (MIG off: reported with no instances). */
const layout: SimulatedLayout = {
  gpus: [
    { name: H100_NAME, memory_gib: 80, count: 1, mig: ['3g.40gb', '1g.10gb', '1g.10gb'] },
    { name: H100_NAME, memory_gib: 80, count: 1 },
  ],
};

let env: NodeTestDeps;
let redis: TestRedis;
let adapter: RestAdapter;
let dir: string;
const agents: Agent[] = [];

beforeAll(async () => {
  // Not a test about money: billing's admission check is off.
  env = await startNodeDeps({ POLICY_MIN_RUNWAY_FOR_NEW_ALLOCATION_SECONDS: '0' });
  redis = await createTestRedis();
  adapter = await createRestAdapter(
    defaultRestAdapterConfig({
      port: 0,
      logLevel: 'silent',
      nodeEnv: 'test',
      databaseUrl: env.database.url,
      natsNamespace: env.deps.config.natsNamespace,
      redisKeyPrefix: redis.keyPrefix,
      policies: { ...resolvePolicies({}), min_runway_for_new_allocation_seconds: 0, task_lease_seconds: LEASE_SECONDS, task_wait_max_seconds: WAIT_SECONDS },
    }),
    { redis, logger: createLogger('agent-e2e-rest', 'silent') },
  );
  dir = await mkdtemp(join(tmpdir(), 'agent-e2e-'));
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await adapter?.close();
  await redis?.cleanup();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function startAgent(options: Pick<AgentOptions, 'hostname' | 'bootstrapToken' | 'stateFile'> & { provisionDelayMs?: number }): Agent {
  const agent = createAgent({
    nodeEnv: 'test',
    logLevel: (process.env['AGENT_TEST_LOG'] ?? 'silent') as AgentOptions['logLevel'],
    controlPlaneUrl: adapter.url,
    bootstrapToken: options.bootstrapToken,
    stateFile: options.stateFile,
    driver: 'simulated',
    hostname: options.hostname,
    maxConcurrentTasks: 2,
    telemetryIntervalSeconds: 0.2,
    simulated: { layout, provisionDelayMs: options.provisionDelayMs ?? 0, failureRate: 0 },
    healthHost: '127.0.0.1',
    healthPort: 0,
    healthServer: false,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  agents.push(agent);
  void agent.start();
  return agent;
}

interface SlotView {
  gpu_index: number;
  profile: string;
  placement_start: number;
  placement_size: number;
  gpu_instance_id: number | null;
  mig_uuid: string | null;
  state: string;
}

async function slotsOf(nodeId: string): Promise<SlotView[]> {
  const { rows } = await env.deps.pool.query<SlotView>(
    `SELECT g.device_index AS gpu_index, p.name AS profile, s.placement_start, s.placement_size, s.gpu_instance_id, s.mig_uuid, s.state
       FROM compute.slots s JOIN compute.node_gpus g ON g.id = s.node_gpu_id JOIN compute.slice_profiles p ON p.id = s.profile_id
      WHERE s.node_id = $1 ORDER BY g.device_index, s.placement_start`,
    [nodeId],
  );
  return rows;
}

async function nodeRow(nodeId: string) {
  const { rows } = await env.deps.pool.query<{ state: string; registered_at: Date; last_heartbeat_at: Date; topology_discovered_at: Date | null; driver: string }>(
    'SELECT state, registered_at, last_heartbeat_at, topology_discovered_at, driver FROM compute.nodes WHERE id = $1',
    [nodeId],
  );
  return rows[0]!;
}

async function requestAllocation(tenant: Awaited<ReturnType<typeof seedTenant>>, profileName: string) {
  const allocation = await createAllocation(env.deps, tenant.actor, {
    projectId: tenant.projectId,
    name: `agent-e2e-${profileName}`,
    gpuModel: 'h100-80gb',
    profileName,
    region: env.catalog.regionCode,
    osImageId: tenant.osImageId,
    sshKeyIds: [tenant.sshKeyId],
  });
  return allocation.id;
}

async function allocationState(id: string) {
  const { rows } = await env.deps.pool.query<{ state: string; node_id: string | null }>('SELECT state, node_id FROM compute.allocations WHERE id = $1', [id]);
  return rows[0]!;
}

describe('the real agent against the real control plane', () => {
  const hostname = uniqueHostname();
  let nodeId: string;
  let stateFile: string;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  it('registers with the bootstrap token an admin issued, then discovery turns its GPUs into slots', async () => {
    stateFile = join(dir, 'state.json');
    const created = await createNode(env.deps, adminActor(), { hostname, region: env.catalog.regionCode });
    const agent = startAgent({ hostname, bootstrapToken: created.bootstrapToken, stateFile });
    nodeId = await agent.whenRegistered();
    expect(nodeId).toBe(created.node.id);
    expect(JSON.parse(await readFile(stateFile, 'utf8'))).toMatchObject({ nodeId, controlPlaneUrl: adapter.url });

    const discovered = await until('topology discovery', async () => (await nodeRow(nodeId)).topology_discovered_at);
    expect(discovered).toBeInstanceOf(Date);
    const node = await nodeRow(nodeId);
    expect(node).toMatchObject({ state: 'active', driver: 'simulated' });
    const slots = await slotsOf(nodeId);
    expect(slots.map(({ gpu_index, profile, placement_start, placement_size, state }) => ({ gpu_index, profile, placement_start, placement_size, state }))).toEqual([
      { gpu_index: 0, profile: '3g.40gb', placement_start: 0, placement_size: 4, state: 'free' },
      { gpu_index: 0, profile: '1g.10gb', placement_start: 4, placement_size: 1, state: 'free' },
      { gpu_index: 0, profile: '1g.10gb', placement_start: 5, placement_size: 1, state: 'free' },
      // A card with MIG off is reported with `instances: []` and becomes one whole slot.
      { gpu_index: 1, profile: 'whole', placement_start: 0, placement_size: 8, state: 'free' },
    ]);
    expect(slots.slice(0, 3).every((slot) => slot.mig_uuid?.startsWith('MIG-') && slot.gpu_instance_id !== null)).toBe(true);
    expect(slots[3]).toMatchObject({ mig_uuid: null, gpu_instance_id: null });
    const discovery = await env.deps.pool.query(`SELECT state, attempts FROM compute.node_tasks WHERE node_id = $1 AND kind = 'discover_topology'`, [nodeId]);
    expect(discovery.rows).toEqual([{ state: 'succeeded', attempts: 1 }]);
  });

  it('heartbeats right after registering', async () => {
    await until('a heartbeat after registration', async () => {
      const node = await nodeRow(nodeId);
      return node.last_heartbeat_at.getTime() > node.registered_at.getTime();
    });
  });

  it('picks up a queued provision within a second, reports it, and the allocation goes active', async () => {
    tenant = await seedTenant(env.deps.pool, env.catalog);
    const allocationId = await requestAllocation(tenant, '1g.10gb');
    expect(await allocationState(allocationId)).toMatchObject({ state: 'requested', node_id: nodeId });
    // The provisioning worker's use case: queueNodeTask + wakeNode after COMMIT.
    expect(await handleProvisioningEvent(env.deps, await requestedEvent(env.deps.pool, allocationId))).toBe('done');
    const queuedAt = Date.now();
    const [done] = await until('the provision result', async () => {
      const tasks = await tasksOf(env.deps.pool, allocationId);
      return tasks[0]?.state === 'succeeded' ? tasks : undefined;
    });
    expect(Date.now() - queuedAt).toBeLessThan(1000);
    expect(done!.leased_at!.getTime() - done!.created_at.getTime()).toBeLessThan(1000);
    expect(done).toMatchObject({ kind: 'provision', attempts: 1, error: null });
    expect(done!.result).toMatchObject({ ssh_host: '127.0.0.1', ssh_user: 'ubuntu', ssh_access: { host: '127.0.0.1', username: 'ubuntu' } });
    expect(await allocationState(allocationId)).toMatchObject({ state: 'active' });

    const telemetry = await until('guest telemetry of the allocation', async () => {
      const { rows } = await env.deps.pool.query<{ gpu_uuid: string; slot_id: string | null; gpu_utilization_percent: number; memory_total_bytes: string }>(
        'SELECT gpu_uuid, slot_id, gpu_utilization_percent, memory_total_bytes FROM compute.guest_telemetry WHERE allocation_id = $1',
        [allocationId],
      );
      return rows.length > 0 ? rows : undefined;
    });
    const slot = await env.deps.pool.query<{ gpu_uuid: string }>(
      'SELECT g.gpu_uuid FROM compute.allocations a JOIN compute.slots s ON s.id = a.slot_id JOIN compute.node_gpus g ON g.id = s.node_gpu_id WHERE a.id = $1',
      [allocationId],
    );
    expect(telemetry[0]!.gpu_uuid).toBe(slot.rows[0]!.gpu_uuid);
    // A 1g.10gb slice is an eighth of the card's memory.
    expect(Number(telemetry[0]!.memory_total_bytes)).toBe(10 * 1024 ** 3);
  });

  it('re-offers a task abandoned by a stopped agent to the restarted agent after the lease', async () => {
    const [first] = agents.splice(0);
    await first!.stop();
    // An agent whose guests take a minute to boot: it leases the provision and is stopped while holding it.
    const slow = startAgent({ hostname, stateFile, provisionDelayMs: 60_000 });
    expect(await slow.whenRegistered()).toBe(nodeId);
    const allocationId = await requestAllocation(tenant, 'whole');
    await handleProvisioningEvent(env.deps, await requestedEvent(env.deps.pool, allocationId));
    const [held] = await until('the slow agent to lease the provision', async () => {
      const tasks = await tasksOf(env.deps.pool, allocationId);
      return tasks[0]?.state === 'leased' ? tasks : undefined;
    });
    expect(held).toMatchObject({ attempts: 1, fencing_token: '1' });
    await slow.stop();
    agents.splice(agents.indexOf(slow), 1);
    // Its polls end with it: a poll left held for a stopped agent could lease the next task to nobody.
    await until('the stopped agent\'s polls to end on the control plane', async () => adapter.internalApi!.hub.size() === 0, 1000);

    await until('the abandoned lease to run out', async () => {
      const { rows } = await env.deps.pool.query<{ expired: boolean }>('SELECT lease_expires_at < now() AS expired FROM compute.node_tasks WHERE id = $1', [held!.id]);
      return rows[0]!.expired;
    }, LEASE_SECONDS * 1000 + 2000);
    expect((await tasksOf(env.deps.pool, allocationId))[0]).toMatchObject({ state: 'leased', attempts: 1 });

    await env.deps.pool.query(`UPDATE compute.nodes SET last_heartbeat_at = now() - interval '1 minute' WHERE id = $1`, [nodeId]);
    const stoppedAt = Date.now();
    // No bootstrap token: the restarted agent must run on the credential it stored.
    const restarted = startAgent({ hostname, stateFile });
    expect(await restarted.whenRegistered()).toBe(nodeId);
    await until('a heartbeat from the restarted agent', async () => (await nodeRow(nodeId)).last_heartbeat_at.getTime() > stoppedAt - 1000);
    const [redone] = await until('the re-offered provision to succeed', async () => {
      const tasks = await tasksOf(env.deps.pool, allocationId);
      return tasks[0]?.state === 'succeeded' ? tasks : undefined;
    });
    expect(redone).toMatchObject({ id: held!.id, attempts: 2, fencing_token: '2' });
    expect(redone!.leased_at!.getTime()).toBeGreaterThanOrEqual(held!.leased_at!.getTime() + LEASE_SECONDS * 1000);
    expect(await allocationState(allocationId)).toMatchObject({ state: 'active' });
    const registrations = await env.deps.pool.query(`SELECT 1 FROM infra.audit_logs WHERE action = 'node.register' AND target_id = $1`, [nodeId]);
    expect(registrations.rowCount).toBe(1);
  });
});

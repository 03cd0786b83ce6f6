import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import {
  authenticateNode,
  authenticateNodeFor,
  authenticateAndClaim,
  claimNodeTask,
  createNode,
  discoverSliceTopology,
  issueBootstrapToken,
  markSilentNodesOffline,
  queueNodeTask,
  readSliceTopology,
  recordHeartbeat,
  registerNode,
  reportTaskResult,
  revokeNodeCredential,
  updateNode,
  findNodeView,
} from '../../src/nodes/index.js';
import { withTransaction } from '@gpuaas/db';
import { adminActor, gpu, placeAllocation, registeredNode, startNodeDeps, uniqueHostname, type NodeTestDeps } from './support/node-deps.js';

let env: NodeTestDeps;

beforeAll(async () => {
  env = await startNodeDeps();
});

afterAll(async () => {
  await env?.close();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return 'no error';
}

/** Takes the node's pending discovery task and answers it with a topology. */
async function answerDiscovery({ nodeId, credential }: { nodeId: string; credential: string }, gpus: Array<{ uuid: string; index: number; mig_mode: string; instances: unknown[] }>) {
  const task = await claimNodeTask(env.deps.pool, nodeId, 60);
  expect(task?.kind).toBe('discover_topology');
  await reportTaskResult(env.deps, credential, nodeId, task!.id, {
    fencingToken: task!.fencingToken,
    outcome: 'succeeded',
    result: { gpus: gpus.map((g) => ({ name: 'NVIDIA H100 80GB HBM3', memory_bytes: 85899345920, ...g })) },
  });
}

describe('registration and credentials', () => {
  it('registers once with a bootstrap token and refuses the token a second time', async () => {
    const admin = adminActor();
    const hostname = uniqueHostname();
    const created = await createNode(env.deps, admin, { hostname, region: env.catalog.regionCode, labels: { rack: 'r1' } });
    expect(created.node.state).toBe('pending');
    expect(created.node.credential.status).toBe('awaiting_registration');
    const input = { hostname, agentVersion: '0.1.0', driver: 'simulated' as const, gpus: [gpu(0)] };
    const registration = await registerNode(env.deps, created.bootstrapToken, input, 'test');
    expect(registration.nodeCredential).toMatch(/^nc_[0-9a-f]{16}\./);
    expect(await authenticateNode(env.deps.pool, registration.nodeCredential)).toBe(created.node.id);
    expect(await codeOf(registerNode(env.deps, created.bootstrapToken, input, 'test'))).toBe('unauthenticated');
    const view = await findNodeView(env.deps.pool, created.node.id);
    expect(view?.state).toBe('active');
    expect(view?.credential.status).toBe('active');
    expect(view?.gpus).toEqual([expect.objectContaining({ model: 'h100-80gb', index: 0 })]);
    const { rows } = await env.deps.pool.query(`SELECT action FROM infra.audit_logs WHERE target_id = $1 ORDER BY id`, [created.node.id]);
    expect(rows.map((row) => row.action)).toEqual(['node.create', 'node.register']);
  });

  it('refuses a hostname other than the node the token names, leaving the token usable', async () => {
    const hostname = uniqueHostname();
    const created = await createNode(env.deps, adminActor(), { hostname, region: env.catalog.regionCode });
    const input = { hostname: 'someone-else', agentVersion: '0.1.0', driver: 'simulated' as const, gpus: [] };
    expect(await codeOf(registerNode(env.deps, created.bootstrapToken, input, 'test'))).toBe('unprocessable');
    await registerNode(env.deps, created.bootstrapToken, { ...input, hostname }, 'test');
  });

  it('stops a revoked credential at once and lets the node register again with a new token', async () => {
    const node = await registeredNode(env);
    expect(await codeOf(issueBootstrapToken(env.deps, node.admin, node.nodeId))).toBe('invalid_state_transition');
    const revoked = await revokeNodeCredential(env.deps, node.admin, node.nodeId, 'host reinstalled');
    expect(revoked.credential.status).toBe('revoked');
    expect(await codeOf(authenticateNode(env.deps.pool, node.credential))).toBe('unauthenticated');
    const token = await issueBootstrapToken(env.deps, node.admin, node.nodeId);
    const again = await registerNode(env.deps, token.bootstrapToken, { hostname: node.hostname, agentVersion: '0.1.1', driver: 'simulated', gpus: node.gpus }, 'test');
    expect(again.nodeId).toBe(node.nodeId);
    expect(await authenticateNode(env.deps.pool, again.nodeCredential)).toBe(node.nodeId);
  });

  it("answers another node's id like a missing node", async () => {
    const one = await registeredNode(env);
    const other = await registeredNode(env);
    expect(await codeOf(authenticateNodeFor(env.deps.pool, one.credential, other.nodeId))).toBe('not_found');
  });
});

describe('node tasks', () => {
  it('re-offers a task whose lease ran out under a higher fencing token and rejects the stale result', async () => {
    const node = await registeredNode(env);
    await answerDiscovery(node, []);
    const queued = await withTransaction(env.deps.pool, (client) => queueNodeTask(client, { nodeId: node.nodeId, kind: 'configure_slices', payload: {} }));
    const first = await claimNodeTask(env.deps.pool, node.nodeId, 0.2);
    expect(first).toMatchObject({ id: queued.id, fencingToken: 1, attempts: 1 });
    expect(await claimNodeTask(env.deps.pool, node.nodeId, 60)).toBeUndefined();
    const deadline = Date.now() + 5000;
    let second = await claimNodeTask(env.deps.pool, node.nodeId, 60);
    while (!second && Date.now() < deadline) second = await claimNodeTask(env.deps.pool, node.nodeId, 60);
    expect(second).toMatchObject({ id: queued.id, fencingToken: 2, attempts: 2 });
    expect(await codeOf(reportTaskResult(env.deps, node.credential, node.nodeId, queued.id, { fencingToken: 1, outcome: 'succeeded', result: {} }))).toBe('task_lease_stale');
    const ack = await reportTaskResult(env.deps, node.credential, node.nodeId, queued.id, { fencingToken: 2, outcome: 'succeeded', result: {} });
    expect(ack.duplicate).toBe(false);
    const replay = await reportTaskResult(env.deps, node.credential, node.nodeId, queued.id, { fencingToken: 2, outcome: 'succeeded', result: {} });
    expect(replay).toMatchObject({ duplicate: true, recordedAt: ack.recordedAt });
    expect(await codeOf(reportTaskResult(env.deps, node.credential, node.nodeId, queued.id, { fencingToken: 2, outcome: 'failed', error: { code: 'x', message: 'y' } }))).toBe('conflict');
  });

  it('checks the credential with the result: a wrong one is unauthenticated, records nothing, and the right one still records', async () => {
    const node = await registeredNode(env);
    const other = await registeredNode(env);
    const task = (await claimNodeTask(env.deps.pool, node.nodeId, 60))!;
    const input = { fencingToken: task.fencingToken, outcome: 'succeeded', result: { gpus: [] } } as const;
    expect(await codeOf(reportTaskResult(env.deps, 'not-a-credential', node.nodeId, task.id, input))).toBe('unauthenticated');
    expect(await codeOf(reportTaskResult(env.deps, other.credential.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')), node.nodeId, task.id, input))).toBe('unauthenticated');
    // Another node's live credential on this node's path answers like a missing node.
    expect(await codeOf(reportTaskResult(env.deps, other.credential, node.nodeId, task.id, input))).toBe('not_found');
    const { rows } = await env.deps.pool.query('SELECT state FROM compute.node_tasks WHERE id = $1', [task.id]);
    expect(rows[0].state).toBe('leased');
    expect(await reportTaskResult(env.deps, node.credential, node.nodeId, task.id, input)).toMatchObject({ duplicate: false, outcome: 'succeeded' });
  });

  it('authenticates a long-poll in its first claim: wrong credentials lease nothing, the right one leases the task', async () => {
    const node = await registeredNode(env);
    const other = await registeredNode(env);
    expect(await codeOf(authenticateAndClaim(env.deps.pool, undefined, node.nodeId, 60))).toBe('unauthenticated');
    expect(await codeOf(authenticateAndClaim(env.deps.pool, other.credential, node.nodeId, 60))).toBe('not_found');
    const leased = await env.deps.pool.query(`SELECT count(*)::int AS n FROM compute.node_tasks WHERE node_id = $1 AND state = 'leased'`, [node.nodeId]);
    expect(leased.rows[0].n).toBe(0);
    const task = await authenticateAndClaim(env.deps.pool, node.credential, node.nodeId, 60);
    expect(task).toMatchObject({ nodeId: node.nodeId, kind: 'discover_topology', fencingToken: 1 });
    expect(await authenticateAndClaim(env.deps.pool, node.credential, node.nodeId, 60)).toBeUndefined();
  });

  it("answers a result for another node's task with not_found", async () => {
    const one = await registeredNode(env);
    const other = await registeredNode(env);
    const task = await claimNodeTask(env.deps.pool, other.nodeId, 60);
    expect(await codeOf(reportTaskResult(env.deps, one.credential, one.nodeId, task!.id, { fencingToken: task!.fencingToken, outcome: 'succeeded', result: { gpus: [] } }))).toBe('not_found');
  });
});

describe('slice topology', () => {
  it('derives slots from a discovery: MIG instances by profile, a whole slot for a card without MIG', async () => {
    const node = await registeredNode(env, [gpu(0, 'enabled'), gpu(1)]);
    const [mig, whole] = node.gpus;
    await answerDiscovery(node, [
      { uuid: mig!.uuid, index: 0, mig_mode: 'enabled', instances: [
        { profile: '1g.10gb', placement: { start: 0, size: 1 }, gpu_instance_id: 9, compute_instance_id: 0, mig_uuid: 'MIG-a' },
        { profile: '3g.40gb', placement: { start: 4, size: 4 }, gpu_instance_id: 2, compute_instance_id: 0, mig_uuid: 'MIG-b' },
      ] },
      { uuid: whole!.uuid, index: 1, mig_mode: 'disabled', instances: [] },
    ]);
    const topology = await readSliceTopology(env.deps.pool, node.nodeId);
    expect(topology?.discoveredAt).not.toBeNull();
    expect(topology?.gpus.map((g) => g.instances.map((i) => [i.profile, i.placement, i.migUuid]))).toEqual([
      [['1g.10gb', { start: 0, size: 1 }, 'MIG-a'], ['3g.40gb', { start: 4, size: 4 }, 'MIG-b']],
      [['whole', null, null]],
    ]);
    expect((await findNodeView(env.deps.pool, node.nodeId))?.slots).toEqual({ total: 3, free: 3, used: 0 });

    // A second discovery that reshapes the MIG card keeps nothing stale.
    await discoverSliceTopology(env.deps, node.admin, node.nodeId);
    await answerDiscovery(node, [
      { uuid: mig!.uuid, index: 0, mig_mode: 'enabled', instances: [
        { profile: '3g.40gb', placement: { start: 0, size: 4 }, gpu_instance_id: 1, compute_instance_id: 0, mig_uuid: 'MIG-c' },
      ] },
      { uuid: whole!.uuid, index: 1, mig_mode: 'disabled', instances: [] },
    ]);
    const after = await readSliceTopology(env.deps.pool, node.nodeId);
    expect(after?.gpus[0]?.instances.map((i) => [i.profile, i.placement?.start, i.gpuInstanceId])).toEqual([['3g.40gb', 0, 1]]);
  });

  it('returns the open discovery instead of queueing a second one', async () => {
    const node = await registeredNode(env);
    const first = await discoverSliceTopology(env.deps, node.admin, node.nodeId);
    const second = await discoverSliceTopology(env.deps, node.admin, node.nodeId);
    expect(second.id).toBe(first.id);
  });
});

describe('heartbeats and offline detection', () => {
  it('takes a silent node offline, marks its live allocations lost with an event, and brings it back on a heartbeat', async () => {
    const node = await registeredNode(env);
    await answerDiscovery(node, [{ uuid: node.gpus[0]!.uuid, index: 0, mig_mode: 'disabled', instances: [] }]);
    const slot = (await readSliceTopology(env.deps.pool, node.nodeId))!.gpus[0]!.instances[0]!;
    const allocationId = await placeAllocation(env, node.nodeId, slot.slotId, 'active');
    await updateNode(env.deps, node.admin, node.nodeId, { state: 'cordoned', reason: 'maintenance' });
    await env.deps.pool.query(`UPDATE compute.nodes SET last_heartbeat_at = now() - interval '1 hour' WHERE id = $1`, [node.nodeId]);

    const marked = await markSilentNodesOffline(env.deps, 'test');
    expect(marked).toContain(node.nodeId);
    const allocation = await env.deps.pool.query('SELECT state, lost_at FROM compute.allocations WHERE id = $1', [allocationId]);
    expect(allocation.rows[0]).toMatchObject({ state: 'lost' });
    const events = await env.deps.pool.query(`SELECT envelope FROM infra.outbox WHERE subject = 'provisioning.lost' AND envelope->'payload'->>'allocation_id' = $1`, [allocationId]);
    expect(events.rows[0]?.envelope.payload).toMatchObject({ node_id: node.nodeId, hourly_price: { amount_minor: 250, currency: 'USD' } });
    expect((await findNodeView(env.deps.pool, node.nodeId))?.state).toBe('offline');

    const answer = await recordHeartbeat(env.deps, node.nodeId, { agentVersion: '0.1.0', runningAllocationIds: [] }, 'test');
    expect(answer.nodeState).toBe('cordoned');
  });

  it('marks lost an active allocation the agent no longer runs, past the grace period', async () => {
    const node = await registeredNode(env);
    await answerDiscovery(node, [{ uuid: node.gpus[0]!.uuid, index: 0, mig_mode: 'disabled', instances: [] }]);
    const slot = (await readSliceTopology(env.deps.pool, node.nodeId))!.gpus[0]!.instances[0]!;
    const old = await placeAllocation(env, node.nodeId, slot.slotId, 'active', new Date(Date.now() - 3600_000));
    await recordHeartbeat(env.deps, node.nodeId, { agentVersion: '0.1.0', runningAllocationIds: [] }, 'test');
    const { rows } = await env.deps.pool.query('SELECT state FROM compute.allocations WHERE id = $1', [old]);
    expect(rows[0]?.state).toBe('lost');
  });

  it('drains to cordoned once the node holds no allocation, and refuses transitions the contract forbids', async () => {
    const node = await registeredNode(env);
    const drained = await updateNode(env.deps, node.admin, node.nodeId, { state: 'draining', reason: 'firmware' });
    expect(drained.state).toBe('cordoned');
    const pending = await createNode(env.deps, node.admin, { hostname: uniqueHostname(), region: env.catalog.regionCode });
    expect(await codeOf(updateNode(env.deps, node.admin, pending.node.id, { state: 'active' }))).toBe('invalid_state_transition');
    const retired = await updateNode(env.deps, node.admin, node.nodeId, { state: 'retired', reason: 'decommissioned' });
    expect(retired.state).toBe('retired');
    expect(await codeOf(authenticateNode(env.deps.pool, node.credential))).toBe('unauthenticated');
  });
});

import { get as httpGet } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '@gpuaas/db';
import { queueNodeTask, wakeNode, createNode } from '@gpuaas/subgraph-compute/nodes';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { createLogger } from '@gpuaas/telemetry';
import { defaultRestAdapterConfig } from '../../src/config.js';
import { domainRouteOperationIds } from '../../src/operations/registry.js';
import { createRestAdapter, type RestAdapter } from '../../src/server.js';
import { assertResponseMatchesContract } from '../../src/testing/contract-validator.js';
import { adminActor, gpu, startNodeDeps, uniqueHostname, type NodeTestDeps } from '../../../subgraphs/compute/test/nodes/support/node-deps.js';

let env: NodeTestDeps;
let redis: TestRedis;
let one: RestAdapter;
let two: RestAdapter;

async function startAdapter(): Promise<RestAdapter> {
  return createRestAdapter(
    defaultRestAdapterConfig({ port: 0, databaseUrl: env.database.url, natsNamespace: env.deps.config.natsNamespace, redisKeyPrefix: 'internal-api-test:' }),
    { redis, logger: createLogger('internal-api-test', 'silent') },
  );
}

beforeAll(async () => {
  env = await startNodeDeps();
  redis = await createTestRedis();
  one = await startAdapter();
  two = await startAdapter();
});

afterAll(async () => {
  await one?.close();
  await two?.close();
  await redis?.cleanup();
  await env?.close();
});

async function call(adapter: RestAdapter, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${adapter.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

async function registered() {
  const hostname = uniqueHostname();
  const created = await createNode(env.deps, adminActor(), { hostname, region: env.catalog.regionCode });
  const g = gpu(0);
  const response = await call(one, 'POST', '/internal/v1/nodes/register', created.bootstrapToken, {
    hostname,
    agent_version: '0.1.0',
    driver: 'simulated',
    capabilities: { gpus: [{ uuid: g.uuid, index: 0, name: g.name, memory_bytes: g.memoryBytes, mig_mode: 'disabled' }], cpu_cores: 8, memory_bytes: 1 << 30 },
  });
  expect(response.status).toBe(201);
  assertResponseMatchesContract('registerNode', 201, response.body);
  return { nodeId: response.body!['node_id'] as string, credential: response.body!['node_credential'] as string, gpuUuid: g.uuid };
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('node-agent API', () => {
  it('registers, takes the discovery task, reports its topology idempotently and heartbeats', async () => {
    const node = await registered();
    const task = await call(two, 'GET', `/internal/v1/nodes/${node.nodeId}/tasks/wait?wait_seconds=0`, node.credential);
    expect(task.status).toBe(200);
    assertResponseMatchesContract('waitNodeTask', 200, task.body);
    expect(task.body).toMatchObject({ kind: 'discover_slice_topology', fencing_token: 1, attempt: 1, allocation_id: null });
    const result = { fencing_token: 1, outcome: 'succeeded', result: { gpus: [{ uuid: node.gpuUuid, index: 0, name: 'NVIDIA H100 80GB HBM3', memory_bytes: 85899345920, mig_mode: 'disabled', instances: [] }] } };
    const path = `/internal/v1/nodes/${node.nodeId}/tasks/${task.body!['task_id']}/result`;
    const ack = await call(one, 'POST', path, node.credential, result);
    expect(ack.status).toBe(200);
    assertResponseMatchesContract('reportNodeTaskResult', 200, ack.body);
    expect(ack.body).toMatchObject({ duplicate: false, outcome: 'succeeded' });
    const replay = await call(two, 'POST', path, node.credential, result);
    expect(replay.body).toMatchObject({ duplicate: true });
    const stale = await call(one, 'POST', path, node.credential, { ...result, fencing_token: 2 });
    expect(stale.status).toBe(409);

    const heartbeat = await call(one, 'POST', `/internal/v1/nodes/${node.nodeId}/heartbeat`, node.credential, {
      agent_status: 'ready', agent_version: '0.1.0', sent_at: new Date().toISOString(), running_allocation_ids: [],
      load: { cpu_percent: 3, memory_used_bytes: 1, memory_total_bytes: 2 },
    });
    expect(heartbeat.status).toBe(200);
    assertResponseMatchesContract('sendNodeHeartbeat', 200, heartbeat.body);
    expect(heartbeat.body).toMatchObject({ node_state: 'active' });

    const telemetry = await call(one, 'POST', '/internal/v1/guest-telemetry', node.credential, {
      node_id: node.nodeId,
      samples: [
        { allocation_id: null, gpu_uuid: node.gpuUuid, mig_uuid: null, sampled_at: new Date().toISOString(), gpu_utilization_percent: 12.5,
          memory_used_bytes: 1, memory_total_bytes: 2, temperature_celsius: 40, power_watts: 70.5 },
        { allocation_id: null, gpu_uuid: node.gpuUuid, mig_uuid: null, sampled_at: new Date(Date.now() + 3600_000).toISOString(), gpu_utilization_percent: 1,
          memory_used_bytes: 1, memory_total_bytes: 2, temperature_celsius: null, power_watts: null },
      ],
    });
    expect(telemetry.status).toBe(202);
    assertResponseMatchesContract('ingestGuestTelemetry', 202, telemetry.body);
    expect(telemetry.body).toEqual({ accepted: 1, rejected: 1 });
  });

  it("answers another node's path with 404 and a revoked or missing credential with 401", async () => {
    const a = await registered();
    const b = await registered();
    const cross = await call(one, 'GET', `/internal/v1/nodes/${b.nodeId}/tasks/wait?wait_seconds=0`, a.credential);
    expect(cross.status).toBe(404);
    assertResponseMatchesContract('waitNodeTask', 404, cross.body);
    const bad = await call(one, 'GET', `/internal/v1/nodes/${a.nodeId}/tasks/wait?wait_seconds=0`, 'nc_0000.forged-credential-value');
    expect(bad.status).toBe(401);
    const foreign = await call(one, 'POST', '/internal/v1/guest-telemetry', a.credential, {
      node_id: b.nodeId,
      samples: [{ allocation_id: null, gpu_uuid: b.gpuUuid, mig_uuid: null, sampled_at: new Date().toISOString(), gpu_utilization_percent: 1, memory_used_bytes: 1, memory_total_bytes: 2, temperature_celsius: null, power_watts: null }],
    });
    expect(foreign.status).toBe(403);
  });

  it('wakes a poll held by one replica within a second of a task queued through the other', async () => {
    const node = await registered();
    const drained = await call(two, 'GET', `/internal/v1/nodes/${node.nodeId}/tasks/wait?wait_seconds=0`, node.credential);
    expect(drained.status).toBe(200);
    const held = call(two, 'GET', `/internal/v1/nodes/${node.nodeId}/tasks/wait?wait_seconds=30`, node.credential);
    await until(() => two.internalApi!.hub.size() === 1);
    const queuedAt = Date.now();
    const viaOne = one.internalApi!.deps;
    const queued = await withTransaction(viaOne.pool, (client) => queueNodeTask(client, { nodeId: node.nodeId, kind: 'configure_slices', payload: { n: 1 } }));
    wakeNode(viaOne, node.nodeId);
    const answer = await held;
    expect(Date.now() - queuedAt).toBeLessThan(1000);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ task_id: queued.id, payload: { n: 1 } });
    expect(two.internalApi!.hub.size()).toBe(0);
  });

  it('answers one queued task with one of the node\'s held polls; the others stay held, and three tasks reach three', async () => {
    const node = await registered();
    const drained = await call(one, 'GET', `/internal/v1/nodes/${node.nodeId}/tasks/wait?wait_seconds=0`, node.credential);
    expect(drained.status).toBe(200);
    // Eight task loops of one agent, all held on one replica.
    const answered: Array<{ status: number; body: Record<string, any> | undefined }> = [];
    const polls = Array.from({ length: 8 }, () =>
      call(one, 'GET', `/internal/v1/nodes/${node.nodeId}/tasks/wait?wait_seconds=5`, node.credential).then((answer) => {
        answered.push(answer);
        return answer;
      }),
    );
    await until(() => one.internalApi!.hub.size() === 8);
    const deps = one.internalApi!.deps;
    const first = await withTransaction(deps.pool, (client) => queueNodeTask(client, { nodeId: node.nodeId, kind: 'configure_slices', payload: { n: 1 } }));
    wakeNode(deps, node.nodeId);
    await until(() => answered.length === 1);
    expect(answered[0]).toMatchObject({ status: 200, body: { task_id: first.id } });
    // The other seven are still held and unanswered (that they were not even woken is node-wake-hub.test.ts's).
    expect(one.internalApi!.hub.size()).toBe(7);

    const more = await withTransaction(deps.pool, async (client) => [
      await queueNodeTask(client, { nodeId: node.nodeId, kind: 'configure_slices', payload: { n: 2 } }),
      await queueNodeTask(client, { nodeId: node.nodeId, kind: 'configure_slices', payload: { n: 3 } }),
      await queueNodeTask(client, { nodeId: node.nodeId, kind: 'configure_slices', payload: { n: 4 } }),
    ]);
    for (let i = 0; i < more.length; i++) wakeNode(deps, node.nodeId);
    await until(() => answered.length === 4);
    expect(answered.slice(1).map((answer) => answer.body?.['task_id']).sort()).toEqual(more.map((task) => task.id).sort());
    expect(one.internalApi!.hub.size()).toBe(4);
    const rest = await Promise.all(polls);
    expect(rest.filter((answer) => answer.status === 204)).toHaveLength(4);
  });

  it('answers 204 when nothing arrives and forgets a poll whose client went away', async () => {
    const node = await registered();
    await call(one, 'GET', `/internal/v1/nodes/${node.nodeId}/tasks/wait?wait_seconds=0`, node.credential);
    const empty = await call(one, 'GET', `/internal/v1/nodes/${node.nodeId}/tasks/wait?wait_seconds=1`, node.credential);
    expect(empty.status).toBe(204);
    // A plain socket of its own (no pool), so going away really closes the connection.
    const request = httpGet(`${one.url}/internal/v1/nodes/${node.nodeId}/tasks/wait?wait_seconds=30`, { agent: false, headers: { authorization: `Bearer ${node.credential}` } });
    const abandoned = new Promise((resolve) => request.on('error', () => resolve('aborted')));
    await until(() => one.internalApi!.hub.size() === 1);
    request.destroy();
    expect(await abandoned).toBe('aborted');
    await until(() => one.internalApi!.hub.size() === 0);
  });

  it('serves exactly the node-agent operations the coverage report counts as domain routes', () => {
    const agentRoutes = domainRouteOperationIds.filter((operationId) => operationId !== 'receiveStripeWebhook' && operationId !== 'openAgentTerminalRelay');
    expect(Object.keys(one.internalApi!.handlers).sort()).toEqual([...agentRoutes].sort());
  });
});

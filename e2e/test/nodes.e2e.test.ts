import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePolicies } from '@gpuaas/config';
import { connectNats, type NatsConnection } from '@gpuaas/events';
import type { ComputeDeps } from '@gpuaas/subgraph-compute/deps';
import { claimNodeTask, registerNode, reportTaskResult } from '@gpuaas/subgraph-compute/nodes';
import { ingestTelemetry } from '@gpuaas/subgraph-compute/telemetry';
import { createLogger } from '@gpuaas/telemetry';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { startComputeStack, type Capacity, type ComputeStack } from './support/compute-stack.js';
import { DoorError } from './support/access-client.js';
import { graphqlCall } from './support/graphql-client.js';
import { restCall, type RestAnswer, type RestRequest } from './support/rest-client.js';
import { newSshPublicKey } from './support/ssh-keys.js';

const PASSWORD = 'correct-horse-battery-staple-42';
const GPU_NAME = 'NVIDIA H100 80GB';

interface Person {
  readonly id: string;
  readonly email: string;
  token: string;
}

interface RestNode {
  id: string;
  hostname: string;
  region: string;
  state: string;
  state_reason: string | null;
  labels: Record<string, string>;
  credential: { status: string; bootstrap_token_expires_at: string | null };
  gpus: Array<{ uuid: string; model: string }>;
  slots: { total: number; free: number; used: number };
}

let stack: ComputeStack;
let capacity: Capacity;
let admin: Person;
let owner: Person;
let viewer: Person;
let stranger: Person;
let projectId: string;
let sshKeyId: string;
let nats: NatsConnection;
let redis: TestRedis;
/** What the node agent's side of the platform runs on (the internal API's domain calls), against this stack's database. */
let agent: ComputeDeps;

const call = (person: Person | undefined, operationId: string, method: string, path: string, request: Omit<RestRequest, 'token'> = {}) =>
  restCall(stack.restUrl, operationId, method, path, { ...request, token: person?.token });

async function newPerson(label: string): Promise<Person> {
  const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const answer = await call(undefined, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', { body: { email, password: PASSWORD, display_name: label } });
  expect(answer.status).toBe(201);
  const { user, tokens } = answer.json as { user: { id: string }; tokens: { access_token: string } };
  return { id: user.id, email, token: tokens.access_token };
}

function expectError(answer: RestAnswer, status: number, code: string) {
  expect(answer.status, answer.text).toBe(status);
  expect((answer.json as { code: string }).code).toBe(code);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    // ci-allow canonical_error_guard: test timeout
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const hostname = () => `gpu-e2e-${randomBytes(4).toString('hex')}`;

async function createNode(labels: Record<string, string> = {}, name = hostname()) {
  const answer = await call(admin, 'adminCreateNode', 'POST', '/api/v1/admin/nodes', {
    body: { hostname: name, region: capacity.regionCode, labels },
    headers: { 'x-idempotency-key': randomUUID() },
  });
  expect(answer.status, answer.text).toBe(201);
  return answer.json as { node: RestNode; bootstrap_token: string; bootstrap_token_expires_at: string };
}

/** A node created over REST and registered by its agent with one card. */
async function registeredNode() {
  const created = await createNode();
  const gpuUuid = `GPU-${randomUUID()}`;
  const registration = await registerNode(
    agent,
    created.bootstrap_token,
    { hostname: created.node.hostname, agentVersion: '1.0.0', driver: 'simulated', gpus: [{ uuid: gpuUuid, index: 0, name: GPU_NAME, memoryBytes: 85899345920, migMode: 'disabled' }] },
    'e2e',
  );
  return { nodeId: registration.nodeId, credential: registration.nodeCredential, hostname: created.node.hostname, gpuUuid };
}

async function auditActions(nodeId: string): Promise<Array<{ action: string; actor_id: string; details: Record<string, unknown> }>> {
  const { rows } = await stack.db.query(`SELECT action, actor_id, details FROM infra.audit_logs WHERE target_type = 'node' AND target_id = $1 ORDER BY id`, [nodeId]);
  return rows;
}

beforeAll(async () => {
  stack = await startComputeStack();
  capacity = await stack.seedCapacity(1);
  [admin, owner, viewer, stranger] = [await newPerson('admin'), await newPerson('owner'), await newPerson('viewer'), await newPerson('stranger')];
  await stack.promoteToAdmin(admin.email);
  const login = await call(undefined, 'loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email: admin.email, password: PASSWORD } });
  admin.token = (login.json as { access_token: string }).access_token;
  projectId = ((await call(owner, 'createProject', 'POST', '/api/v1/projects', { body: { name: 'telemetry' } })).json as { id: string }).id;
  expect((await call(owner, 'addProjectMember', 'POST', `/api/v1/projects/${projectId}/members`, { body: { email: viewer.email, role: 'viewer' } })).status).toBe(201);
  sshKeyId = ((await call(owner, 'createSshKey', 'POST', '/api/v1/ssh-keys', { body: { name: 'laptop', public_key: newSshPublicKey().line } })).json as { id: string }).id;
  nats = await connectNats(process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222', 'nodes-e2e-agent');
  redis = await createTestRedis();
  agent = {
    pool: stack.db,
    nats,
    redis,
    logger: createLogger('nodes-e2e-agent', 'silent'),
    config: { natsNamespace: stack.natsNamespace, policies: resolvePolicies({}) } as ComputeDeps['config'],
  };
}, 60_000);

afterAll(async () => {
  await nats?.drain().catch(() => nats.close());
  await redis?.cleanup();
  await stack?.close();
});

describe('admin node operations over REST', () => {
  it('creates a pending node with a one-time bootstrap token, audited without the token, and replays it by idempotency key', async () => {
    const name = hostname();
    const key = randomUUID();
    const request = { body: { hostname: name, region: capacity.regionCode, labels: { rack: 'r12' } }, headers: { 'x-idempotency-key': key } };
    const created = await call(admin, 'adminCreateNode', 'POST', '/api/v1/admin/nodes', request);
    expect(created.status, created.text).toBe(201);
    const body = created.json as { node: RestNode; bootstrap_token: string; bootstrap_token_expires_at: string };
    expect(body.node).toMatchObject({ hostname: name, region: capacity.regionCode, state: 'pending', labels: { rack: 'r12' }, gpus: [], slots: { total: 0, free: 0, used: 0 } });
    expect(body.node.credential).toMatchObject({ status: 'awaiting_registration', bootstrap_token_expires_at: body.bootstrap_token_expires_at });

    const replay = await call(admin, 'adminCreateNode', 'POST', '/api/v1/admin/nodes', request);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((replay.json as { bootstrap_token: string }).bootstrap_token).toBe(body.bootstrap_token);

    const audit = await auditActions(body.node.id);
    expect(audit.map((row) => row.action)).toEqual(['node.create']);
    expect(audit[0]!.actor_id).toBe(admin.id);
    expect(JSON.stringify(audit[0]!.details)).not.toContain(body.bootstrap_token);

    expectError(await call(admin, 'adminCreateNode', 'POST', '/api/v1/admin/nodes', { body: { hostname: name, region: capacity.regionCode } }), 409, 'already_exists');
    expectError(await call(admin, 'adminCreateNode', 'POST', '/api/v1/admin/nodes', { body: { hostname: hostname(), region: 'nowhere-1' } }), 422, 'unprocessable');
    expectError(await call(admin, 'adminCreateNode', 'POST', '/api/v1/admin/nodes', { body: { hostname: 'Not A Hostname', region: capacity.regionCode } }), 400, 'validation_error');
  });

  it('answers 401 without a token and 403 to a signed-in user without the admin role', async () => {
    expectError(await call(undefined, 'adminListNodes', 'GET', '/api/v1/admin/nodes'), 401, 'unauthenticated');
    expectError(await call(owner, 'adminListNodes', 'GET', '/api/v1/admin/nodes'), 403, 'forbidden');
    expectError(await call(owner, 'adminCreateNode', 'POST', '/api/v1/admin/nodes', { body: { hostname: hostname(), region: capacity.regionCode } }), 403, 'forbidden');
    expectError(await call(owner, 'v3ListComputeNodes', 'GET', '/api/v3/compute/nodes'), 403, 'forbidden');
    expectError(await call(owner, 'adminGetNode', 'GET', `/api/v1/admin/nodes/${capacity.nodeId}`), 403, 'forbidden');
  });

  it('lists nodes by hostname with state and region filters and cursors, and gets one', async () => {
    const first = await createNode({}, `gpu-list-a-${randomBytes(3).toString('hex')}`);
    const second = await createNode({}, `gpu-list-b-${randomBytes(3).toString('hex')}`);
    const all: RestNode[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?region=${capacity.regionCode}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const listed = await call(admin, 'adminListNodes', 'GET', `/api/v1/admin/nodes${query}`);
      expect(listed.status, listed.text).toBe(200);
      const page = listed.json as { data: RestNode[]; next_cursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(2);
      all.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    const hostnames = all.map((node) => node.hostname);
    expect(hostnames).toEqual([...hostnames].sort());
    expect(hostnames).toEqual(expect.arrayContaining([first.node.hostname, second.node.hostname]));
    expect(new Set(all.map((node) => node.id)).size).toBe(all.length);

    const pending = await call(admin, 'adminListNodes', 'GET', `/api/v1/admin/nodes?state=pending&state=retired`);
    expect((pending.json as { data: RestNode[] }).data.every((node) => ['pending', 'retired'].includes(node.state))).toBe(true);
    const active = await call(admin, 'adminListNodes', 'GET', `/api/v1/admin/nodes?state=active`);
    expect((active.json as { data: RestNode[] }).data.map((node) => node.id)).toContain(capacity.nodeId);

    const got = await call(admin, 'adminGetNode', 'GET', `/api/v1/admin/nodes/${first.node.id}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id: first.node.id, hostname: first.node.hostname, state: 'pending' });
    expectError(await call(admin, 'adminGetNode', 'GET', `/api/v1/admin/nodes/${randomUUID()}`), 404, 'not_found');
    expectError(await call(admin, 'adminListNodes', 'GET', `/api/v1/admin/nodes?cursor=bogus`), 400, 'validation_error');
  });

  it('queues a slice-topology discovery once, and shows the reported topology in the admin and v3 views', async () => {
    const node = await registeredNode();
    const discover = () => call(admin, 'adminDiscoverNodeSliceTopology', 'POST', `/api/v1/admin/nodes/${node.nodeId}/slice-topology/discovery`);
    const queued = await discover();
    expect(queued.status, queued.text).toBe(202);
    expect(queued.json).toMatchObject({ node_id: node.nodeId, kind: 'discover_slice_topology', state: 'queued' });
    const again = await discover();
    expect((again.json as { task_id: string }).task_id).toBe((queued.json as { task_id: string }).task_id);

    const before = await call(admin, 'adminGetNodeSliceTopology', 'GET', `/api/v1/admin/nodes/${node.nodeId}/slice-topology`);
    expect(before.json).toEqual({ node_id: node.nodeId, discovered_at: null, gpus: [] });

    const task = (await claimNodeTask(stack.db, node.nodeId, 60))!;
    expect(task.id).toBe((queued.json as { task_id: string }).task_id);
    await reportTaskResult(agent, node.credential, node.nodeId, task.id, {
      fencingToken: task.fencingToken,
      outcome: 'succeeded',
      result: { gpus: [{ uuid: node.gpuUuid, index: 0, name: GPU_NAME, memory_bytes: 85899345920, mig_mode: 'disabled', instances: [] }] },
    });

    const topology = await call(admin, 'adminGetNodeSliceTopology', 'GET', `/api/v1/admin/nodes/${node.nodeId}/slice-topology`);
    expect(topology.status).toBe(200);
    const body = topology.json as { discovered_at: string | null; gpus: Array<{ uuid: string; model: string; instances: Array<Record<string, unknown>> }> };
    expect(body.discovered_at).not.toBeNull();
    expect(body.gpus).toEqual([
      expect.objectContaining({
        uuid: node.gpuUuid,
        model: capacity.gpuModelCode,
        memory_bytes: 85899345920,
        mig_mode: 'disabled',
        instances: [expect.objectContaining({ profile: 'whole', placement: null, gpu_instance_id: null, allocation_id: null })],
      }),
    ]);

    const v3 = await call(admin, 'v3GetComputeNode', 'GET', `/api/v3/compute/nodes/${node.nodeId}`);
    expect(v3.status, v3.text).toBe(200);
    expect(v3.json).toMatchObject({
      id: node.nodeId,
      region: { code: capacity.regionCode },
      state: 'active',
      credential_status: 'active',
      slots: { total: 1, free: 1, used: 0 },
      gpus: body.gpus,
      live_allocations: [],
    });
    const v3List = await call(admin, 'v3ListComputeNodes', 'GET', `/api/v3/compute/nodes?region=${capacity.regionCode}`);
    expect(v3List.status, v3List.text).toBe(200);
    expect((v3List.json as { data: Array<{ id: string }> }).data.map((n) => n.id)).toContain(node.nodeId);
    expectError(await call(admin, 'v3GetComputeNode', 'GET', `/api/v3/compute/nodes/${randomUUID()}`), 404, 'not_found');

    const discoveries = (await auditActions(node.nodeId)).filter((row) => row.action === 'node.slice_topology_discover');
    expect(discoveries.map((row) => row.details['task_id'])).toEqual([task.id, task.id]);
    expect(discoveries.every((row) => row.actor_id === admin.id)).toBe(true);
  });

  it('cordons, relabels, drains and retires a node, each audited with its reason, and refuses forbidden transitions', async () => {
    const node = await registeredNode();
    const patch = (body: Record<string, unknown>) => call(admin, 'adminUpdateNode', 'PATCH', `/api/v1/admin/nodes/${node.nodeId}`, { body });
    const cordoned = await patch({ state: 'cordoned', reason: 'Firmware upgrade' });
    expect(cordoned.status, cordoned.text).toBe(200);
    expect(cordoned.json).toMatchObject({ state: 'cordoned', state_reason: 'Firmware upgrade' });
    const relabelled = await patch({ labels: { rack: 'r7', tier: 'premium' }, reason: 'moved' });
    expect((relabelled.json as RestNode).labels).toEqual({ rack: 'r7', tier: 'premium' });
    // Draining a node without allocations ends at cordoned right away.
    expect(((await patch({ state: 'draining', reason: 'rack swap' })).json as RestNode).state).toBe('cordoned');
    expectError(await patch({ reason: 'nothing to change' }), 400, 'validation_error');

    const pending = await createNode();
    expectError(
      await call(admin, 'adminUpdateNode', 'PATCH', `/api/v1/admin/nodes/${pending.node.id}`, { body: { state: 'cordoned', reason: 'not registered yet' } }),
      409,
      'invalid_state_transition',
    );
    expectError(await call(admin, 'adminUpdateNode', 'PATCH', `/api/v1/admin/nodes/${randomUUID()}`, { body: { state: 'active' } }), 404, 'not_found');

    const retired = await patch({ state: 'retired', reason: 'decommissioned' });
    expect(retired.json).toMatchObject({ state: 'retired', credential: { status: 'revoked' } });
    expectError(await patch({ state: 'active', reason: 'bring it back' }), 409, 'invalid_state_transition');

    const audit = await auditActions(node.nodeId);
    expect(audit.map((row) => row.action)).toEqual(['node.create', 'node.register', 'node.cordon', 'node.labels_update', 'node.drain', 'node.retire']);
    expect(audit.find((row) => row.action === 'node.cordon')?.details).toMatchObject({ reason: 'Firmware upgrade' });
  });

  it('revokes a credential (repeatably) and only then issues a fresh bootstrap token, both audited', async () => {
    const node = await registeredNode();
    const issue = () => call(admin, 'adminIssueNodeBootstrapToken', 'POST', `/api/v1/admin/nodes/${node.nodeId}/bootstrap-token`);
    expectError(await issue(), 409, 'invalid_state_transition');
    const revoke = () => call(admin, 'adminRevokeNodeCredential', 'POST', `/api/v1/admin/nodes/${node.nodeId}/credential/revoke`, { body: { reason: 'Host reinstalled' } });
    const revoked = await revoke();
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json).toMatchObject({ credential: { status: 'revoked' }, state_reason: 'Host reinstalled' });
    expect((await revoke()).status).toBe(200);

    const issued = await issue();
    expect(issued.status, issued.text).toBe(201);
    expect(issued.json).toMatchObject({ node_id: node.nodeId });
    const token = (issued.json as { bootstrap_token: string }).bootstrap_token;
    const node2 = await call(admin, 'adminGetNode', 'GET', `/api/v1/admin/nodes/${node.nodeId}`);
    expect((node2.json as RestNode).credential.status).toBe('awaiting_registration');
    expectError(await call(admin, 'adminRevokeNodeCredential', 'POST', `/api/v1/admin/nodes/${node.nodeId}/credential/revoke`, { body: {} }), 400, 'validation_error');

    const audit = await auditActions(node.nodeId);
    expect(audit.map((row) => row.action)).toEqual(['node.create', 'node.register', 'node.credential_revoke', 'node.bootstrap_token_issue']);
    expect(JSON.stringify(audit)).not.toContain(token);
  });
});

describe('allocation telemetry over REST', () => {
  it('serves an allocation’s samples in buckets to its project’s members, and not_found to anyone else', async () => {
    const created = await call(owner, 'createAllocation', 'POST', '/api/v1/allocations', {
      body: { project_id: projectId, gpu_model: capacity.gpuModelCode, profile_name: 'whole', region: capacity.regionCode, os_image_id: capacity.osImageId, ssh_key_ids: [sshKeyId] },
      headers: { 'x-idempotency-key': randomUUID() },
    });
    expect(created.status, created.text).toBe(202);
    const allocationId = (created.json as { id: string }).id;
    await until('the allocation provisioning', async () => {
      const { rows } = await stack.db.query(`SELECT state FROM compute.allocations WHERE id = $1`, [allocationId]);
      return rows[0]?.state === 'provisioning' ? true : undefined;
    });
    const { rows } = await stack.db.query(
      `SELECT g.gpu_uuid FROM compute.allocations a JOIN compute.slots s ON s.id = a.slot_id JOIN compute.node_gpus g ON g.id = s.node_gpu_id WHERE a.id = $1`,
      [allocationId],
    );
    const gpuUuid = rows[0].gpu_uuid as string;
    const from = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60_000);
    const at = (seconds: number) => new Date(from.getTime() + seconds * 1000).toISOString();
    const sample = (seconds: number, util: number) => ({
      allocation_id: allocationId, gpu_uuid: gpuUuid, mig_uuid: null, sampled_at: at(seconds), gpu_utilization_percent: util,
      memory_used_bytes: 1024, memory_total_bytes: 2048, temperature_celsius: null, power_watts: 250,
    });
    expect(await ingestTelemetry(agent, capacity.nodeId, [sample(0, 20), sample(20, 40), sample(65, 70)])).toEqual({ accepted: 3, rejected: 0 });

    const path = `/api/v1/allocations/${allocationId}/telemetry?from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(120))}&resolution=1m`;
    const answer = await call(viewer, 'getAllocationTelemetry', 'GET', path);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toEqual({
      allocation_id: allocationId,
      from: at(0),
      to: at(120),
      resolution: '1m',
      series: [
        {
          device: { gpu_uuid: gpuUuid, mig_uuid: null, profile: 'whole' },
          latest: { sampled_at: at(65), gpu_utilization_percent: 70, memory_used_bytes: 1024, memory_total_bytes: 2048, temperature_celsius: null, power_watts: 250 },
          samples: [
            { sampled_at: at(0), gpu_utilization_percent: 30, memory_used_bytes: 1024, memory_total_bytes: 2048, temperature_celsius: null, power_watts: 250 },
            { sampled_at: at(60), gpu_utilization_percent: 70, memory_used_bytes: 1024, memory_total_bytes: 2048, temperature_celsius: null, power_watts: 250 },
          ],
        },
      ],
    });
    const raw = await call(owner, 'getAllocationTelemetry', 'GET', `/api/v1/allocations/${allocationId}/telemetry?from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(120))}&resolution=raw`);
    expect(raw.status, raw.text).toBe(200);
    expect((raw.json as { series: Array<{ samples: unknown[] }> }).series[0]!.samples).toHaveLength(3);
    const byDefault = await call(owner, 'getAllocationTelemetry', 'GET', `/api/v1/allocations/${allocationId}/telemetry`);
    expect(byDefault.status, byDefault.text).toBe(200);
    expect((byDefault.json as { resolution: string }).resolution).toBe('1m');

    expectError(await call(stranger, 'getAllocationTelemetry', 'GET', `/api/v1/allocations/${allocationId}/telemetry`), 404, 'not_found');
    const hourLater = encodeURIComponent(new Date(Date.parse(at(0)) + 3600_000).toISOString());
    const rawHour = `/api/v1/allocations/${allocationId}/telemetry?from=${encodeURIComponent(at(0))}&to=${hourLater}&resolution=raw`;
    expectError(await call(owner, 'getAllocationTelemetry', 'GET', rawHour), 400, 'validation_error');
    expectError(await call(owner, 'getAllocationTelemetry', 'GET', `/api/v1/allocations/${allocationId}/telemetry?from=${encodeURIComponent(at(60))}&to=${encodeURIComponent(at(0))}`), 400, 'validation_error');

    // The operators' v3 view of the node lists the allocation holding its slot.
    const nodeView = await call(admin, 'v3GetComputeNode', 'GET', `/api/v3/compute/nodes/${capacity.nodeId}`);
    expect(nodeView.status, nodeView.text).toBe(200);
    expect((nodeView.json as { live_allocations: unknown[] }).live_allocations).toEqual([
      expect.objectContaining({ id: allocationId, project_id: projectId, state: 'provisioning', profile: 'whole' }),
    ]);
  });
});

describe('the released GraphQL node API (node, nodes, adminDrainNode)', () => {
  const LEGACY_NODE = 'id hostname state gpuCount lastHeartbeatAt createdAt region { id code } gpuModel { code }';

  it('lists registered nodes with their GPU model, and drains one with an audit row', async () => {
    const node = await registeredNode();
    const pending = await createNode();
    const listed = await graphqlCall<{ nodes: { edges: Array<{ node: { id: string; state: string; gpuCount: number; gpuModel: { code: string }; region: { code: string } } }> } }>(
      stack.graphqlUrl,
      `query { nodes(state: ONLINE, first: 200) { edges { node { ${LEGACY_NODE} } } pageInfo { hasNextPage endCursor } } }`,
      {},
      admin.token,
    );
    const ids = listed.nodes.edges.map((edge) => edge.node.id);
    expect(ids).toContain(node.nodeId);
    expect(ids).not.toContain(pending.node.id);
    expect(listed.nodes.edges.find((edge) => edge.node.id === node.nodeId)!.node).toMatchObject({
      state: 'ONLINE',
      gpuCount: 1,
      gpuModel: { code: capacity.gpuModelCode },
      region: { code: capacity.regionCode },
    });

    const drained = await graphqlCall<{ adminDrainNode: { id: string; state: string } }>(
      stack.graphqlUrl,
      `mutation Drain($input: AdminDrainNodeInput!) { adminDrainNode(input: $input) { ${LEGACY_NODE} } }`,
      { input: { id: node.nodeId, reason: 'kernel upgrade' } },
      admin.token,
    );
    expect(drained.adminDrainNode).toMatchObject({ id: node.nodeId, state: 'DRAINING' });
    const audit = await auditActions(node.nodeId);
    expect(audit.at(-1)).toMatchObject({ action: 'node.drain', actor_id: admin.id, details: expect.objectContaining({ reason: 'kernel upgrade' }) });

    const one = await graphqlCall<{ node: { id: string; state: string } | null }>(stack.graphqlUrl, `query One($id: ID!) { node(id: $id) { ${LEGACY_NODE} } }`, { id: node.nodeId }, admin.token);
    expect(one.node).toMatchObject({ id: node.nodeId, state: 'DRAINING' });
    const none = await graphqlCall<{ node: unknown }>(stack.graphqlUrl, `query One($id: ID!) { node(id: $id) { id } }`, { id: pending.node.id }, admin.token);
    expect(none.node).toBeNull();

    const refused = await graphqlCall(stack.graphqlUrl, 'query { nodes { edges { node { id } } } }', {}, owner.token).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DoorError);
    expect((refused as DoorError).code).toBe('forbidden');
  });
});

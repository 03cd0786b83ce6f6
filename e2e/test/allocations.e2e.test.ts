import { randomUUID } from 'node:crypto';
import { withTransaction } from '@gpuaas/db';
import { applyTaskOutcome } from '@gpuaas/subgraph-compute';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComputeStack, type Capacity, type ComputeStack } from './support/compute-stack.js';
import { restCall, type RestAnswer, type RestRequest } from './support/rest-client.js';
import { newSshPublicKey } from './support/ssh-keys.js';

const PASSWORD = 'correct-horse-battery-staple-42';

interface Person {
  readonly id: string;
  readonly email: string;
  token: string;
}

interface RestAllocation {
  id: string;
  state: string;
  state_reason: string | null;
  name: string | null;
  node: { id: string; slot_id: string } | null;
  ssh_access: unknown;
  hourly_price: { amount_minor: number; currency: string };
}

let stack: ComputeStack;
let capacity: Capacity;
let owner: Person;
let viewer: Person;
let stranger: Person;
let admin: Person;
let projectId: string;
let sshKeyId: string;

const call = (person: Person | undefined, operationId: string, method: string, path: string, request: Omit<RestRequest, 'token'> = {}) =>
  restCall(stack.restUrl, operationId, method, path, { ...request, token: person?.token });

async function newPerson(label: string): Promise<Person> {
  const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const answer = await call(undefined, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', { body: { email, password: PASSWORD, display_name: label } });
  expect(answer.status).toBe(201);
  const { user, tokens } = answer.json as { user: { id: string }; tokens: { access_token: string } };
  return { id: user.id, email, token: tokens.access_token };
}

const create = (person: Person, body: Record<string, unknown>, key = randomUUID()) =>
  call(person, 'createAllocation', 'POST', '/api/v1/allocations', { body, headers: { 'x-idempotency-key': key } });

const requestBody = (overrides: Record<string, unknown> = {}) => ({
  project_id: projectId,
  name: 'llm-finetune',
  gpu_model: capacity.gpuModelCode,
  profile_name: 'whole',
  region: capacity.regionCode,
  os_image_id: capacity.osImageId,
  ssh_key_ids: [sshKeyId],
  ...overrides,
});

async function getAllocation(id: string, as: 'owner' | 'admin' = 'owner'): Promise<RestAllocation> {
  const answer = as === 'owner' ? await call(owner, 'getAllocation', 'GET', `/api/v1/allocations/${id}`) : await call(admin, 'adminGetAllocation', 'GET', `/api/v1/admin/allocations/${id}`);
  expect(answer.status).toBe(200);
  return answer.json as RestAllocation;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const reaches = (id: string, state: string, as: 'owner' | 'admin' = 'owner') =>
  until(`${id} ${state}`, async () => ((await getAllocation(id, as)).state === state ? true : undefined));

/** Plays the node agent: completes the allocation's open task of `kind` through the real outcome path. */
async function completeNodeTask(allocationId: string, kind: 'provision' | 'release', result: Record<string, unknown> = {}) {
  const task = await until(`${kind} task of ${allocationId}`, async () => {
    const { rows } = await stack.db.query(`SELECT id, node_id, payload FROM compute.node_tasks WHERE allocation_id = $1 AND kind = $2 AND state = 'queued'`, [allocationId, kind]);
    return rows[0] as { id: string; node_id: string; payload: Record<string, unknown> } | undefined;
  });
  await withTransaction(stack.db, async (client) => {
    await client.query(`UPDATE compute.node_tasks SET state = 'succeeded', result = $2::jsonb, completed_at = now() WHERE id = $1`, [task.id, JSON.stringify(result)]);
    await applyTaskOutcome(client, {}, { id: task.id, nodeId: task.node_id, kind, allocationId, payload: task.payload }, { status: 'succeeded', result });
  });
}

/** Released before the worker queued its provisioning, an allocation needs no node task; after, the node tears it down. */
async function untilReleased(id: string) {
  const releaseTask = await until('a release task or the release itself', async () => {
    if ((await getAllocation(id, 'admin')).state === 'released') return false;
    const { rows } = await stack.db.query(`SELECT 1 FROM compute.node_tasks WHERE allocation_id = $1 AND kind = 'release'`, [id]);
    return rows.length > 0 ? true : undefined;
  });
  if (releaseTask) await completeNodeTask(id, 'release');
  await reaches(id, 'released', 'admin');
}

function expectError(answer: RestAnswer, status: number, code: string) {
  expect(answer.status, answer.text).toBe(status);
  expect((answer.json as { code: string }).code).toBe(code);
}

beforeAll(async () => {
  stack = await startComputeStack({ env: { POLICY_MAX_LIVE_ALLOCATIONS_PER_USER: '4' } });
  capacity = await stack.seedCapacity(6);
  [owner, viewer, stranger, admin] = [await newPerson('owner'), await newPerson('viewer'), await newPerson('stranger'), await newPerson('admin')];
  await stack.promoteToAdmin(admin.email);
  const login = await call(undefined, 'loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email: admin.email, password: PASSWORD } });
  admin.token = (login.json as { access_token: string }).access_token;
  projectId = ((await call(owner, 'createProject', 'POST', '/api/v1/projects', { body: { name: 'research' } })).json as { id: string }).id;
  expect((await call(owner, 'addProjectMember', 'POST', `/api/v1/projects/${projectId}/members`, { body: { email: viewer.email, role: 'viewer' } })).status).toBe(201);
  sshKeyId = ((await call(owner, 'createSshKey', 'POST', '/api/v1/ssh-keys', { body: { name: 'laptop', public_key: newSshPublicKey().line } })).json as { id: string }).id;
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe('allocations over REST', () => {
  it('creates an allocation placed on a slot, provisions it through the worker and the node, then releases it', async () => {
    const created = await create(owner, requestBody());
    expect(created.status, created.text).toBe(202);
    const allocation = created.json as RestAllocation;
    expect(created.headers.get('location')).toBe(`/api/v1/allocations/${allocation.id}`);
    expect(allocation).toMatchObject({ state: 'requested', name: 'llm-finetune', hourly_price: { amount_minor: 249, currency: 'USD' } });
    expect(capacity.slotIds).toContain(allocation.node?.slot_id);

    await reaches(allocation.id, 'provisioning');
    await completeNodeTask(allocation.id, 'provision', { ssh_access: { host: '203.0.113.14', port: 22014, username: 'ubuntu' } });
    await reaches(allocation.id, 'active');
    expect((await getAllocation(allocation.id)).ssh_access).toEqual({ host: '203.0.113.14', port: 22014, username: 'ubuntu' });

    const viewerRelease = await call(viewer, 'releaseAllocation', 'POST', `/api/v1/allocations/${allocation.id}/release`);
    expectError(viewerRelease, 403, 'forbidden');
    const released = await call(owner, 'releaseAllocation', 'POST', `/api/v1/allocations/${allocation.id}/release`, { headers: { 'x-idempotency-key': randomUUID() } });
    expect(released.status, released.text).toBe(202);
    expect(released.json).toMatchObject({ state: 'releasing', state_reason: 'user_release', ssh_access: null });
    await completeNodeTask(allocation.id, 'release');
    await reaches(allocation.id, 'released');
    expectError(await call(owner, 'releaseAllocation', 'POST', `/api/v1/allocations/${allocation.id}/release`), 409, 'invalid_state_transition');
  });

  it('replays a create with the same idempotency key and refuses the key with another body', async () => {
    const key = randomUUID();
    const first = await create(owner, requestBody({ name: 'idem' }), key);
    expect(first.status).toBe(202);
    const replay = await create(owner, requestBody({ name: 'idem' }), key);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((replay.json as RestAllocation).id).toBe((first.json as RestAllocation).id);
    expectError(await create(owner, requestBody({ name: 'other' }), key), 409, 'idempotency_key_reused');
    const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM compute.allocations WHERE name = 'idem'`);
    expect(rows[0].n).toBe(1);
  });

  it('refuses what it cannot do, holding nothing', async () => {
    expectError(await create(viewer, requestBody()), 403, 'forbidden');
    expectError(await create(stranger, requestBody()), 404, 'not_found');
    const foreignKey = ((await call(stranger, 'createSshKey', 'POST', '/api/v1/ssh-keys', { body: { name: 'k', public_key: newSshPublicKey().line } })).json as { id: string }).id;
    const invalid = await create(owner, requestBody({ ssh_key_ids: [foreignKey] }));
    expectError(invalid, 400, 'validation_error');
    expect((invalid.json as { details: unknown }).details).toEqual({ fields: [{ field: 'body.ssh_key_ids[0]', message: 'is not one of your SSH keys' }] });
  });

  it('answers quota_exceeded at the live limit and capacity_unavailable once every slot is held, holding nothing', async () => {
    // 6 slots: the first test's allocation was released, the idempotent one still holds a slot, so 5 are free.
    const codesOf = async (person: Person, times: number) => {
      const project = ((await call(person, 'createProject', 'POST', '/api/v1/projects', { body: { name: 'busy' } })).json as { id: string }).id;
      const codes: string[] = [];
      for (let index = 0; index < times; index++) {
        const answer = await create(person, requestBody({ project_id: project, ssh_key_ids: [] }));
        codes.push(answer.status === 202 ? 'accepted' : `${answer.status} ${(answer.json as { code: string }).code}`);
      }
      return codes;
    };
    expect(await codesOf(await newPerson('busy'), 5)).toEqual(['accepted', 'accepted', 'accepted', 'accepted', '403 quota_exceeded']);
    expect(await codesOf(await newPerson('late'), 2)).toEqual(['accepted', '409 capacity_unavailable']);
    const held = await stack.db.query(`SELECT count(*)::int AS n, count(DISTINCT slot_id)::int AS slots FROM compute.allocations WHERE state IN ('requested', 'provisioning', 'active', 'releasing')`);
    expect(held.rows[0]).toEqual({ n: 6, slots: 6 });
    // Free the slots again for the tests below.
    const { rows } = await stack.db.query(`SELECT id FROM compute.allocations WHERE name = 'llm-finetune' AND state IN ('requested', 'provisioning')`);
    for (const row of rows as { id: string }[]) {
      const answer = await call(admin, 'adminForceReleaseAllocation', 'POST', `/api/v1/admin/allocations/${row.id}/force-release`, { body: { reason: 'test clean-up' } });
      expect(answer.status, answer.text).toBe(202);
      await untilReleased(row.id);
    }
  });

  it('lists and reads only the caller\'s projects, and renames', async () => {
    const list = await call(owner, 'listAllocations', 'GET', `/api/v1/allocations?project_id=${projectId}&state=released&state=requested&state=provisioning&limit=50`);
    expect(list.status, list.text).toBe(200);
    const page = list.json as { data: RestAllocation[]; next_cursor: string | null };
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data.every((item) => ['released', 'requested', 'provisioning'].includes(item.state))).toBe(true);
    const id = page.data[0]!.id;
    expectError(await call(stranger, 'getAllocation', 'GET', `/api/v1/allocations/${id}`), 404, 'not_found');
    expectError(await call(stranger, 'listAllocations', 'GET', `/api/v1/allocations?project_id=${projectId}`), 404, 'not_found');
    expect(((await call(stranger, 'listAllocations', 'GET', '/api/v1/allocations')).json as { data: unknown[] }).data).toEqual([]);
    const renamed = await call(owner, 'updateAllocation', 'PATCH', `/api/v1/allocations/${id}`, { body: { name: null } });
    expect(renamed.status, renamed.text).toBe(200);
    expect((renamed.json as RestAllocation).name).toBeNull();
  });

  it('lets an operator list, read and force-release any tenant\'s allocation, audited', async () => {
    const mine = await create(owner, requestBody({ name: 'to-force' }));
    const id = (mine.json as RestAllocation).id;
    expectError(await call(owner, 'adminListAllocations', 'GET', '/api/v1/admin/allocations'), 403, 'forbidden');
    const list = await call(admin, 'adminListAllocations', 'GET', `/api/v1/admin/allocations?user_id=${owner.id}&limit=100`);
    expect(list.status, list.text).toBe(200);
    expect((list.json as { data: RestAllocation[] }).data.map((item) => item.id)).toContain(id);
    expect((await call(admin, 'adminGetAllocation', 'GET', `/api/v1/admin/allocations/${id}`)).status).toBe(200);
    expectError(await call(owner, 'adminForceReleaseAllocation', 'POST', `/api/v1/admin/allocations/${id}/force-release`, { body: { reason: 'nope' } }), 403, 'forbidden');
    const forced = await call(admin, 'adminForceReleaseAllocation', 'POST', `/api/v1/admin/allocations/${id}/force-release`, { body: { reason: 'Abuse report 4411' } });
    expect(forced.status, forced.text).toBe(202);
    expect(forced.json).toMatchObject({ state: 'releasing', state_reason: 'admin_force_release' });
    const audit = await stack.db.query(`SELECT actor_id, details ->> 'reason' AS reason FROM infra.audit_logs WHERE action = 'allocation.force_release' AND target_id = $1`, [id]);
    expect(audit.rows).toEqual([{ actor_id: admin.id, reason: 'Abuse report 4411' }]);
    await untilReleased(id);
  });
});

describe('allocations over GraphQL', () => {
  async function graphql(person: Person, query: string, variables: Record<string, unknown>) {
    const response = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${person.token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: Record<string, any>; errors?: { extensions?: { code?: string } }[] };
  }

  it('serves the released requestAllocation form and the catalog\'s region and profile on an allocation', async () => {
    const { rows } = await stack.db.query(`SELECT id FROM compute.regions WHERE code = $1`, [capacity.regionCode]);
    const answer = await graphql(
      owner,
      `mutation ($input: RequestAllocationInput!) {
        requestAllocation(input: $input) {
          id state pricePerHour { amountMinor currency } activatedAt failureReason
          region { code status } sliceProfile { id name gpuModel { code } } project { id }
        }
      }`,
      { input: { projectId, sliceProfileId: capacity.profileId, regionId: rows[0].id, osImageId: capacity.osImageId, sshKeyIds: [sshKeyId] } },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data!['requestAllocation']).toMatchObject({
      state: 'REQUESTED',
      pricePerHour: { amountMinor: '249', currency: 'USD' },
      activatedAt: null,
      failureReason: null,
      region: { code: capacity.regionCode, status: 'ACTIVE' },
      sliceProfile: { id: capacity.profileId, name: 'whole', gpuModel: { code: capacity.gpuModelCode } },
      project: { id: projectId },
    });
    const listed = await graphql(owner, `query ($projectId: ID) { allocations(projectId: $projectId, state: REQUESTED, states: [PROVISIONING]) { edges { node { id } } } }`, { projectId });
    expect(listed.data!['allocations'].edges.map((edge: { node: { id: string } }) => edge.node.id)).toContain(answer.data!['requestAllocation'].id);
    const foreign = await graphql(stranger, `query ($id: ID!) { allocation(id: $id) { id } }`, { id: answer.data!['requestAllocation'].id });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('not_found');
  });
});

describe('allocation views under /api/v3', () => {
  it("shows an allocation with its project, region, node, GPU and slot to its project's members only", async () => {
    const created = await create(owner, requestBody({ name: 'v3-view' }));
    expect(created.status, created.text).toBe(202);
    const id = (created.json as RestAllocation).id;
    const view = await call(owner, 'v3GetComputeAllocation', 'GET', `/api/v3/compute/allocations/${id}`);
    expect(view.status, view.text).toBe(200);
    expect(view.json).toMatchObject({
      id,
      project: { id: projectId, name: 'research' },
      region: { code: capacity.regionCode },
      node: { id: capacity.nodeId, state: 'active' },
      gpu: { model_code: capacity.gpuModelCode, mig_mode: 'disabled' },
      slot: { mig_uuid: null, placement: { start: 0, size: 7 } },
      last_telemetry: null,
    });
    expectError(await call(stranger, 'v3GetComputeAllocation', 'GET', `/api/v3/compute/allocations/${id}`), 404, 'not_found');
    const mine = await call(owner, 'v3ListComputeAllocations', 'GET', `/api/v3/compute/allocations?project_id=${projectId}&limit=100`);
    expect(mine.status, mine.text).toBe(200);
    expect((mine.json as { data: { id: string }[] }).data.map((item) => item.id)).toContain(id);
    expect(((await call(stranger, 'v3ListComputeAllocations', 'GET', '/api/v3/compute/allocations')).json as { data: unknown[] }).data).toEqual([]);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { connectNats, type NatsConnection } from '@gpuaas/events';
import type { ComputeDeps } from '@gpuaas/subgraph-compute/deps';
import { ingestTelemetry, type AgentSample } from '@gpuaas/subgraph-compute/telemetry';
import { seedCapacity, type Capacity } from '../../subgraphs/compute/test/support/allocation-world.js';
import { subscribe, wsClient, type Subscription } from '../../gateway/test/support/ws-client.js';
import { graphqlAccessClient, graphqlCall } from './support/graphql-client.js';
import { startLiveStack, type LiveStack } from './support/live-stack.js';
import { newSshPublicKey } from './support/ssh-keys.js';

// Every allocation change reaches a subscribed console within a second: the change is written through one
// gateway/compute pair, travels outbox → relay → JetStream, and is pushed by the OTHER pair's compute subgraph
// through its gateway's graphql-ws bridge.

interface Person {
  readonly email: string;
  readonly userId: string;
  readonly token: string;
  readonly projectId: string;
  readonly sshKeyId: string;
}

interface LiveAllocation {
  readonly id: string;
  readonly state: string;
  readonly projectId: string;
  readonly project: { readonly id: string; readonly name: string };
}

const FIELDS = 'id state projectId project { id name }';
const ONE = `subscription($id: ID!) { allocation(id: $id) { ${FIELDS} } }`;
const PROJECT = `subscription($p: ID!) { allocationUpdated(projectId: $p) { ${FIELDS} } }`;
const MISSING_ID = '0193a0b0-0000-7000-8000-00000000beef';
const PASSWORD = 'a-long-enough-passphrase-42';
const NODE = 'subscription($id: ID) { nodeUpdated(id: $id) { id state stateReason hostname } }';
const TELEMETRY =
  'subscription($id: ID!) { allocationTelemetry(id: $id) { allocationId series { gpuUuid migUuid samples { sampledAt gpuUtilizationPercent memoryUsedBytes } } } }';

let stack: LiveStack;
let capacity: Capacity;
let alice: Person;
let mallory: Person;
let admin: Person;
let nats: NatsConnection;
const clients: Client[] = [];

async function person(name: string): Promise<Person> {
  const door = graphqlAccessClient(stack.replicas[0]!.graphqlUrl);
  const email = `${name}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}@example.test`;
  const registered = await door.register(email, PASSWORD, name);
  const key = await door.addSshKey(registered.tokens.accessToken, 'laptop', newSshPublicKey(`${name}@e2e`).line);
  return { email, userId: registered.userId, token: registered.tokens.accessToken, projectId: registered.personalProjectId, sshKeyId: key.id };
}

/** A graphql-ws client on replica `index`'s gateway, as `who` (anonymous when undefined). */
function client(index: number, who: Person | undefined): Client {
  const created = wsClient(stack.replicas[index]!.gatewayUrl, who ? { authorization: `Bearer ${who.token}` } : {});
  clients.push(created);
  return created;
}

async function createAllocation(index: number, who: Person): Promise<string> {
  const data = await graphqlCall<{ createAllocation: { id: string } }>(
    stack.replicas[index]!.graphqlUrl,
    'mutation($input: CreateAllocationInput!) { createAllocation(input: $input) { id } }',
    { input: { projectId: who.projectId, profileId: capacity.profileId, region: capacity.regionCode, osImageId: capacity.osImageId, sshKeyIds: [who.sshKeyId] } },
    who.token,
  );
  return data.createAllocation.id;
}

async function releaseAllocation(index: number, who: Person, id: string): Promise<void> {
  await graphqlCall(stack.replicas[index]!.graphqlUrl, 'mutation($input: ReleaseAllocationInput!) { releaseAllocation(input: $input) { id } }', { input: { id } }, who.token);
}

/** Waits for the first result (after `from`) that satisfies `match`; resolves with it. */
async function resultWhere<T>(sub: Subscription<T>, from: number, match: (data: T) => boolean, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = sub.results.slice(from).find((result) => result.data && match(result.data));
    if (found) return found.data!;
    if (sub.failure) throw new Error(`subscription failed: ${JSON.stringify(sub.failure)}`);
    if (Date.now() > deadline) throw new Error(`no matching result within ${timeoutMs} ms; got ${JSON.stringify(sub.results.slice(from))}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

beforeAll(async () => {
  stack = await startLiveStack({ replicas: 2 });
  capacity = await seedCapacity(stack.db, 8);
  alice = await person('alice');
  mallory = await person('mallory');
  const promoted = await person('operator');
  await stack.db.query("UPDATE access.users SET role = 'admin', updated_at = now() WHERE id = $1", [promoted.userId]);
  // The role travels in the access token: sign in again to carry it.
  const tokens = await graphqlAccessClient(stack.replicas[0]!.graphqlUrl).login(promoted.email, PASSWORD);
  admin = { ...promoted, token: tokens.accessToken };
  nats = await connectNats(process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222', 'live-e2e-telemetry');
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.dispose();
});

afterAll(async () => {
  await nats?.close();
  await stack?.close();
});

describe('live allocation subscriptions across replicas', () => {
  it('pushes a release made through one gateway to subscribers on the other within a second', async () => {
    const id = await createAllocation(0, alice);
    const socket = client(1, alice);
    const one = subscribe<{ allocation: LiveAllocation }>(socket, ONE, { id });
    const project = subscribe<{ allocationUpdated: LiveAllocation }>(socket, PROJECT, { p: alice.projectId });
    // The current state first (from the subgraph), with another subgraph's field resolved by the gateway.
    expect((await one.nth(1)).data?.allocation).toMatchObject({ id, state: 'REQUESTED', project: { id: alice.projectId, name: expect.any(String) } });
    await resultWhere(project, 0, (data) => data.allocationUpdated.id === id);
    const [oneSeen, projectSeen] = [one.results.length, project.results.length];

    const releasedAt = Date.now();
    await releaseAllocation(0, alice, id);
    const viaOne = await resultWhere(one, oneSeen, (data) => data.allocation.state === 'RELEASING', 1000);
    const viaProject = await resultWhere(project, projectSeen, (data) => data.allocationUpdated.id === id && data.allocationUpdated.state === 'RELEASING', 1000);
    expect(Date.now() - releasedAt).toBeLessThan(1000);
    expect(viaOne.allocation).toMatchObject({ id, projectId: alice.projectId, project: { id: alice.projectId } });
    expect(viaProject.allocationUpdated).toMatchObject({ id, projectId: alice.projectId });
    // Each change is sent once: no stale or repeated copy trails the new state.
    expect(one.results.slice(oneSeen).map((result) => result.data?.allocation.state)).toEqual(['RELEASING']);
  });

  it('tells a project subscriber about an allocation created on the other replica', async () => {
    const anchor = await createAllocation(1, alice);
    const project = subscribe<{ allocationUpdated: LiveAllocation }>(client(0, alice), PROJECT, { p: alice.projectId });
    // Subscribed once the catch-up (the project's live allocations) has arrived.
    await resultWhere(project, 0, (data) => data.allocationUpdated.id === anchor);
    const createdAt = Date.now();
    const id = await createAllocation(1, alice);
    const seen = await resultWhere(project, 0, (data) => data.allocationUpdated.id === id, 1000);
    expect(Date.now() - createdAt).toBeLessThan(1000);
    expect(seen.allocationUpdated.state).toBe('REQUESTED');
    await releaseAllocation(1, alice, anchor);
    await releaseAllocation(1, alice, id);
  });

  it('answers another tenant\'s allocation and project exactly like missing ones', async () => {
    const id = await createAllocation(0, alice);
    const socket = client(1, mallory);
    const answers = await Promise.all(
      [
        [ONE, { id }],
        [ONE, { id: MISSING_ID }],
        [PROJECT, { p: alice.projectId }],
        [PROJECT, { p: MISSING_ID }],
      ].map(async ([query, variables]) => {
        const sub = subscribe(socket, query as string, variables as Record<string, unknown>);
        const first = await sub.nth(1);
        await sub.ended();
        return { data: first.data ?? null, codes: first.errors?.map((error) => error.extensions?.['code']), messages: first.errors?.map((error) => error.message) };
      }),
    );
    expect(answers[0]!.codes).toEqual(['not_found']);
    expect(answers[2]!.codes).toEqual(['not_found']);
    expect(answers[0]!.data).toBeNull();
    expect({ ...answers[0]! }).toEqual({ ...answers[1]! });
    expect({ ...answers[2]! }).toEqual({ ...answers[3]! });
    await releaseAllocation(0, alice, id);
  });

  it('refuses an anonymous subscriber with unauthenticated', async () => {
    const sub = subscribe(client(1, undefined), ONE, { id: MISSING_ID });
    const first = await sub.nth(1);
    expect(first.data ?? null).toBeNull();
    expect(first.errors?.[0]?.extensions?.['code']).toBe('unauthenticated');
    await sub.ended();
  });

  it('pushes a node change made through one gateway to admins subscribed on the other, and refuses everyone else', async () => {
    const nodeId = capacity.nodeIds[0]!;
    const socket = client(1, admin);
    const one = subscribe<{ nodeUpdated: { id: string; state: string; stateReason: string | null } }>(socket, NODE, { id: nodeId });
    const every = subscribe<{ nodeUpdated: { id: string; state: string } }>(socket, NODE, {});
    expect((await one.nth(1)).data?.nodeUpdated).toMatchObject({ id: nodeId, state: 'ACTIVE' });
    await resultWhere(every, 0, (data) => data.nodeUpdated.id === nodeId);
    const [oneSeen, everySeen] = [one.results.length, every.results.length];

    const changedAt = Date.now();
    await graphqlCall(
      stack.replicas[0]!.graphqlUrl,
      'mutation($input: AdminUpdateNodeInput!) { adminUpdateNode(input: $input) { id } }',
      { input: { id: nodeId, state: 'CORDONED', reason: 'live e2e' } },
      admin.token,
    );
    const seen = await resultWhere(one, oneSeen, (data) => data.nodeUpdated.state === 'CORDONED', 1000);
    await resultWhere(every, everySeen, (data) => data.nodeUpdated.id === nodeId && data.nodeUpdated.state === 'CORDONED', 1000);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect(seen.nodeUpdated.stateReason).toBe('live e2e');

    const refused = subscribe(client(1, alice), NODE, { id: nodeId });
    expect((await refused.nth(1)).errors?.map((error) => error.extensions?.['code'])).toEqual(['forbidden']);
    await graphqlCall(stack.replicas[0]!.graphqlUrl, 'mutation($input: AdminUpdateNodeInput!) { adminUpdateNode(input: $input) { id } }', { input: { id: nodeId, state: 'ACTIVE' } }, admin.token);
  });

  it('streams an allocation\'s telemetry reports to its project\'s members only', async () => {
    const id = await createAllocation(0, alice);
    // Releasing still holds the slot on its node, which is what telemetry ingestion accepts samples for.
    await releaseAllocation(0, alice, id);
    const { rows } = await stack.db.query<{ node_id: string; gpu_uuid: string }>(
      'SELECT a.node_id, g.gpu_uuid FROM compute.allocations a JOIN compute.slots s ON s.id = a.slot_id JOIN compute.node_gpus g ON g.id = s.node_gpu_id WHERE a.id = $1',
      [id],
    );
    const { node_id: nodeId, gpu_uuid: gpuUuid } = rows[0]!;
    const deps = { pool: stack.db, nats, config: { natsNamespace: stack.natsNamespace } } as unknown as ComputeDeps;
    const report = (at: Date, utilization: number): AgentSample => ({
      allocation_id: id,
      gpu_uuid: gpuUuid,
      mig_uuid: null,
      sampled_at: at.toISOString(),
      gpu_utilization_percent: utilization,
      memory_used_bytes: 1024,
      memory_total_bytes: 85899345920,
      temperature_celsius: 50,
      power_watts: 300,
    });

    const telemetry = subscribe<{ allocationTelemetry: { allocationId: string; series: Array<{ gpuUuid: string; migUuid: string | null; samples: Array<{ sampledAt: string; gpuUtilizationPercent: number; memoryUsedBytes: string }> }> } }>(
      client(1, alice),
      TELEMETRY,
      { id },
    );
    // A telemetry subscription sends nothing first; report until one arrives to know it is in place.
    const deadline = Date.now() + 5000;
    for (let n = 1; telemetry.results.length === 0; n++) {
      if (Date.now() > deadline || telemetry.failure) throw new Error(`no telemetry arrived: ${JSON.stringify(telemetry.failure)}`);
      await ingestTelemetry(deps, nodeId, [report(new Date(Date.now() - 60_000 + n), 1)]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seen = telemetry.results.length;
    const sampledAt = new Date();
    const sentAt = Date.now();
    await ingestTelemetry(deps, nodeId, [report(sampledAt, 87.5)]);
    const arrived = await resultWhere(telemetry, seen, (data) => data.allocationTelemetry.series[0]?.samples[0]?.gpuUtilizationPercent === 87.5, 1000);
    expect(Date.now() - sentAt).toBeLessThan(1000);
    expect(arrived.allocationTelemetry).toEqual({
      allocationId: id,
      series: [{ gpuUuid, migUuid: null, samples: [{ sampledAt: sampledAt.toISOString(), gpuUtilizationPercent: 87.5, memoryUsedBytes: '1024' }] }],
    });

    const stranger = subscribe(client(1, mallory), TELEMETRY, { id });
    const missing = subscribe(client(1, mallory), TELEMETRY, { id: MISSING_ID });
    const [strangerFirst, missingFirst] = [await stranger.nth(1), await missing.nth(1)];
    expect(strangerFirst.errors?.map((error) => error.extensions?.['code'])).toEqual(['not_found']);
    expect(strangerFirst.errors?.map((error) => error.message)).toEqual(missingFirst.errors?.map((error) => error.message));
  });
});

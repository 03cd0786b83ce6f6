import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { subscribe, wsClient, type Subscription } from '../../gateway/test/support/ws-client.js';
import { connectBrowser } from '../../rest-adapter/test/terminal/support.js';
import { graphqlCall } from './support/graphql-client.js';
import { NODE_GPU_MODEL, NODE_REGION, PLATFORM_PASSWORD, startPlatformStack, until, type PlatformStack } from './support/platform-stack.js';
import { restCall, type RestAnswer, type RestRequest } from './support/rest-client.js';
import { newSshPublicKey } from './support/ssh-keys.js';

// Issue 4's "done when", played once through REST alone and once through GraphQL alone against the whole platform
// started from nothing: a new user sees live availability, allocates a slice, watches it go active on a subscription,
// opens a terminal, reads its telemetry, releases it and sees availability restored; an admin discovers a node's
// topology and force-releases an allocation (audited). The only live channel either door offers is graphql-ws.

const PROFILE = '1g.10gb';
/** The operator's welcome credit: without a balance, billing's metering would rightly release the allocation. */
const CREDIT_MINOR = 5000;

interface LiveAllocation {
  readonly id: string;
  readonly state: string;
  readonly stateReason: string | null;
}
const LIVE = `subscription($p: ID!) { allocationUpdated(projectId: $p) { id state stateReason } }`;

let stack: PlatformStack;
const sockets: Client[] = [];

beforeAll(async () => {
  stack = await startPlatformStack();
}, 120_000);

afterEach(async () => {
  for (const socket of sockets.splice(0)) await socket.dispose();
});

afterAll(async () => {
  await stack?.close();
});

function liveFeed(token: string, projectId: string): Subscription<{ allocationUpdated: LiveAllocation }> {
  // The token travels in graphql-ws's connection_init payload, never in the URL.
  const socket = wsClient(stack.gatewayUrl, { authorization: `Bearer ${token}` });
  sockets.push(socket);
  return subscribe<{ allocationUpdated: LiveAllocation }>(socket, LIVE, { p: projectId });
}

/** The first update of `id` (seen after `from` results) in `state`. */
async function seen(feed: Subscription<{ allocationUpdated: LiveAllocation }>, id: string, state: string, timeoutMs = 10_000): Promise<LiveAllocation> {
  return until(
    () => `${id} ${state} on the subscription; got ${JSON.stringify(feed.results.map((r) => r.data?.allocationUpdated ?? r.errors))}`,
    async () => {
      if (feed.failure) throw new Error(`subscription failed: ${JSON.stringify(feed.failure)}`);
      return feed.results.map((result) => result.data?.allocationUpdated).find((update) => update?.id === id && update.state === state);
    },
    timeoutMs,
    5,
  );
}

async function typeInTerminal(wsUrl: string, protocol: string, token: string): Promise<void> {
  const terminal = await connectBrowser(wsUrl, [protocol, token]);
  expect(terminal.protocol).toBe('gpuaas.terminal.v1');
  terminal.type('echo ok-$((40+2))\r');
  // The echoed command holds `$((40+2))`; only the shell's output line holds ok-42.
  await terminal.waitFor(/[\r\n]ok-42\r?\n/, 15_000);
  terminal.socket.close(1000, 'done');
  await terminal.closed;
}

async function auditRow(action: string, targetId: string) {
  const { rows } = await stack.db.query<{ actor_id: string; details: Record<string, unknown> }>(
    'SELECT actor_id, details FROM infra.audit_logs WHERE action = $1 AND target_id = $2',
    [action, targetId],
  );
  return rows;
}

async function taskState(taskId: string): Promise<string | undefined> {
  const { rows } = await stack.db.query<{ state: string }>('SELECT state FROM compute.node_tasks WHERE id = $1', [taskId]);
  return rows[0]?.state;
}

describe('issue 4 done when, through REST only', () => {
  const rest = (token: string | undefined, operationId: string, method: string, path: string, request: Omit<RestRequest, 'token'> = {}) =>
    restCall(stack.restUrl, operationId, method, path, { ...request, token });
  const mutate = (token: string | undefined, operationId: string, method: string, path: string, body?: unknown) =>
    rest(token, operationId, method, path, { ...(body !== undefined ? { body } : {}), headers: { 'x-idempotency-key': randomUUID() } });
  const ok = (answer: RestAnswer, status: number) => {
    expect(answer.status, answer.text).toBe(status);
    return answer.json as Record<string, unknown>;
  };

  async function availableSlots(token: string): Promise<number> {
    const page = ok(await rest(token, 'listCatalogGpus', 'GET', `/api/v1/catalog/gpus?region=${NODE_REGION}&model=${NODE_GPU_MODEL}`), 200) as {
      data: Array<{ profiles: Array<{ name: string; offers: Array<{ region: string; available_slots: number }> }> }>;
    };
    const offer = page.data[0]?.profiles.find((profile) => profile.name === PROFILE)?.offers.find((o) => o.region === NODE_REGION);
    return offer?.available_slots ?? 0;
  }

  it('a new user allocates a slice, sees it active, uses its terminal and telemetry, releases it; an admin discovers topology and force-releases', async () => {
    const operator = stack.operator.token;
    const email = `ada-${randomUUID().slice(0, 8)}@example.com`;
    const registered = ok(await mutate(undefined, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', { email, password: PLATFORM_PASSWORD, display_name: 'Ada' }), 201) as {
      user: { id: string };
    };
    const token = (ok(await rest(undefined, 'loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email, password: PLATFORM_PASSWORD } }), 200) as { access_token: string })
      .access_token;
    const projectId = ok(await mutate(token, 'createProject', 'POST', '/api/v1/projects', { name: 'done-when-rest' }), 201)['id'] as string;
    const sshKeyId = ok(await mutate(token, 'createSshKey', 'POST', '/api/v1/ssh-keys', { name: 'laptop', public_key: newSshPublicKey('ada@e2e').line }), 201)['id'] as string;
    ok(
      await mutate(operator, 'adminGrantCredit', 'POST', '/api/v1/admin/billing/credits', {
        user_id: registered.user.id,
        amount: { amount_minor: CREDIT_MINOR, currency: 'USD' },
        reason: 'welcome credit',
      }),
      201,
    );

    const osImageId = (ok(await rest(token, 'listCatalogOsImages', 'GET', '/api/v1/catalog/os-images'), 200) as { data: Array<{ id: string }> }).data[0]!.id;

    const before = await availableSlots(token);
    expect(before).toBeGreaterThan(0);

    const feed = liveFeed(token, projectId);
    const body = { project_id: projectId, name: 'done-when', gpu_model: NODE_GPU_MODEL, profile_name: PROFILE, region: NODE_REGION, os_image_id: osImageId, ssh_key_ids: [sshKeyId] };
    const created = ok(await mutate(token, 'createAllocation', 'POST', '/api/v1/allocations', body), 202) as { id: string; state: string };
    expect(created.state).toBe('requested');
    await seen(feed, created.id, 'ACTIVE');
    const active = ok(await rest(token, 'getAllocation', 'GET', `/api/v1/allocations/${created.id}`), 200) as { state: string; node: { id: string } | null; ssh_access: unknown };
    expect(active).toMatchObject({ state: 'active', node: { id: stack.node.id }, ssh_access: expect.anything() });
    expect(await availableSlots(token)).toBe(before - 1);

    const issued = ok(await mutate(token, 'createAllocationTerminalToken', 'POST', `/api/v1/allocations/${created.id}/terminal-token`), 201) as {
      token: string;
      protocol: string;
      ws_url: string;
    };
    expect(issued.ws_url).toBe(`${stack.restUrl.replace(/^http/, 'ws')}/terminal/${created.id}`);
    await typeInTerminal(issued.ws_url, issued.protocol, issued.token);

    const from = new Date(Date.now() - 5 * 60_000).toISOString();
    const telemetry = await until('telemetry samples of the allocation', async () => {
      const answer = ok(await rest(token, 'getAllocationTelemetry', 'GET', `/api/v1/allocations/${created.id}/telemetry?resolution=raw&from=${encodeURIComponent(from)}`), 200) as {
        series: Array<{ device: { profile: string }; samples: unknown[] }>;
      };
      return answer.series.some((series) => series.samples.length > 0) ? answer : undefined;
    });
    expect(telemetry.series[0]!.device.profile).toBe(PROFILE);

    const releasing = ok(await mutate(token, 'releaseAllocation', 'POST', `/api/v1/allocations/${created.id}/release`), 202) as { state: string };
    expect(releasing.state).toBe('releasing');
    await seen(feed, created.id, 'RELEASED');
    expect(await until('availability restored', async () => ((await availableSlots(token)) === before ? true : undefined))).toBe(true);

    // The admin: a fresh discovery of the node's topology, run by its agent.
    const topologyBefore = ok(await rest(operator, 'adminGetNodeSliceTopology', 'GET', `/api/v1/admin/nodes/${stack.node.id}/slice-topology`), 200) as { discovered_at: string };
    const accepted = ok(await mutate(operator, 'adminDiscoverNodeSliceTopology', 'POST', `/api/v1/admin/nodes/${stack.node.id}/slice-topology/discovery`), 202) as {
      task_id: string;
      kind: string;
    };
    expect(accepted.kind).toBe('discover_slice_topology');
    await until('the discovery task to succeed', async () => ((await taskState(accepted.task_id)) === 'succeeded' ? true : undefined));
    const topology = ok(await rest(operator, 'adminGetNodeSliceTopology', 'GET', `/api/v1/admin/nodes/${stack.node.id}/slice-topology`), 200) as {
      discovered_at: string;
      gpus: Array<{ mig_mode: string; instances: Array<{ profile: string; allocation_id: string | null }> }>;
    };
    expect(Date.parse(topology.discovered_at)).toBeGreaterThan(Date.parse(topologyBefore.discovered_at));
    expect(topology.gpus.flatMap((gpu) => gpu.instances).filter((instance) => instance.profile === PROFILE)).toHaveLength(21);
    expect(await auditRow('node.slice_topology_discover', stack.node.id)).toContainEqual({ actor_id: stack.operator.userId, details: expect.objectContaining({ task_id: accepted.task_id }) });

    // The admin force-releases the user's second allocation.
    const second = ok(await mutate(token, 'createAllocation', 'POST', '/api/v1/allocations', { ...body, name: 'to-force-release' }), 202) as { id: string };
    await seen(feed, second.id, 'ACTIVE');
    const forced = ok(await mutate(operator, 'adminForceReleaseAllocation', 'POST', `/api/v1/admin/allocations/${second.id}/force-release`, { reason: 'abuse report 4411' }), 202) as {
      state: string;
      state_reason: string;
    };
    expect(forced).toMatchObject({ state: 'releasing', state_reason: 'admin_force_release' });
    expect(await seen(feed, second.id, 'RELEASED')).toMatchObject({ stateReason: 'admin_force_release' });
    expect(await auditRow('allocation.force_release', second.id)).toEqual([expect.objectContaining({ actor_id: stack.operator.userId })]);
    expect(await until('availability restored again', async () => ((await availableSlots(token)) === before ? true : undefined))).toBe(true);
  });
});

describe('issue 4 done when, through GraphQL only', () => {
  const gql = <T>(query: string, variables: object = {}, token?: string) => graphqlCall<T>(stack.graphqlUrl, query, variables, token);

  async function availableSlots(token: string): Promise<number> {
    const data = await gql<{ catalogGpuModels: { edges: Array<{ node: { profiles: Array<{ name: string; offers: Array<{ region: { code: string }; availableSlots: number }> }> } }> } }>(
      'query($r: String, $m: String) { catalogGpuModels(region: $r, model: $m, first: 1) { edges { node { profiles(first: 16) { name offers(first: 8) { region { code } availableSlots } } } } } }',
      { r: NODE_REGION, m: NODE_GPU_MODEL },
      token,
    );
    const profile = data.catalogGpuModels.edges[0]?.node.profiles.find((p) => p.name === PROFILE);
    return profile?.offers.find((offer) => offer.region.code === NODE_REGION)?.availableSlots ?? 0;
  }

  it('a new user allocates a slice, sees it active, uses its terminal and telemetry, releases it; an admin discovers topology and force-releases', async () => {
    const operator = stack.operator.token;
    const email = `grace-${randomUUID().slice(0, 8)}@example.com`;
    const { register } = await gql<{ register: { user: { id: string } } }>('mutation($input: RegisterInput!) { register(input: $input) { user { id } } }', {
      input: { email, password: PLATFORM_PASSWORD, displayName: 'Grace' },
    });
    const { login } = await gql<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email, password: PLATFORM_PASSWORD } });
    const token = login.accessToken;
    const projectId = (await gql<{ createProject: { id: string } }>('mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }', { input: { name: 'done-when-graphql' } }, token))
      .createProject.id;
    const sshKeyId = (
      await gql<{ createSshKey: { id: string } }>('mutation($input: CreateSshKeyInput!) { createSshKey(input: $input) { id } }', { input: { name: 'laptop', publicKey: newSshPublicKey('grace@e2e').line } }, token)
    ).createSshKey.id;
    await gql(
      'mutation($input: AdminGrantCreditInput!) { adminGrantCredit(input: $input) { id } }',
      { input: { userId: register.user.id, amount: { amountMinor: String(CREDIT_MINOR), currency: 'USD' }, reason: 'welcome credit' } },
      operator,
    );
    const { osImages } = await gql<{ osImages: { edges: Array<{ node: { id: string } }> } }>('{ osImages(first: 1) { edges { node { id } } } }', {}, token);
    const imageId = osImages.edges[0]!.node.id;

    const before = await availableSlots(token);
    expect(before).toBeGreaterThan(0);

    const feed = liveFeed(token, projectId);
    const input = { projectId, name: 'done-when', gpuModel: NODE_GPU_MODEL, profileName: PROFILE, region: NODE_REGION, osImageId: imageId, sshKeyIds: [sshKeyId] };
    const create = async (name: string) =>
      (await gql<{ createAllocation: { id: string; state: string } }>('mutation($input: CreateAllocationInput!) { createAllocation(input: $input) { id state } }', { input: { ...input, name } }, token))
        .createAllocation;
    const created = await create('done-when');
    expect(created.state).toBe('REQUESTED');
    await seen(feed, created.id, 'ACTIVE');
    const { allocation } = await gql<{ allocation: { state: string; placement: { nodeId: string } | null } }>(
      'query($id: ID!) { allocation(id: $id) { state placement { nodeId } } }',
      { id: created.id },
      token,
    );
    expect(allocation).toMatchObject({ state: 'ACTIVE', placement: { nodeId: stack.node.id } });
    expect(await availableSlots(token)).toBe(before - 1);

    const { createAllocationTerminalToken: issued } = await gql<{ createAllocationTerminalToken: { token: string; protocol: string; wsUrl: string } }>(
      'mutation($input: CreateAllocationTerminalTokenInput!) { createAllocationTerminalToken(input: $input) { token protocol wsUrl } }',
      { input: { id: created.id } },
      token,
    );
    await typeInTerminal(issued.wsUrl, issued.protocol, issued.token);

    const from = new Date(Date.now() - 5 * 60_000).toISOString();
    const series = await until('telemetry samples of the allocation', async () => {
      const data = await gql<{ allocation: { telemetry: { series: Array<{ device: { profile: string }; samples: unknown[] }> } } }>(
        'query($id: ID!, $from: DateTime) { allocation(id: $id) { telemetry(from: $from, resolution: RAW) { series { device { profile } samples { sampledAt gpuUtilizationPercent } } } } }',
        { id: created.id, from },
        token,
      );
      const found = data.allocation.telemetry.series;
      return found.some((s) => s.samples.length > 0) ? found : undefined;
    });
    expect(series[0]!.device.profile).toBe(PROFILE);

    const { releaseAllocation } = await gql<{ releaseAllocation: { state: string } }>('mutation($input: ReleaseAllocationInput!) { releaseAllocation(input: $input) { state } }', { input: { id: created.id } }, token);
    expect(releaseAllocation.state).toBe('RELEASING');
    await seen(feed, created.id, 'RELEASED');
    expect(await until('availability restored', async () => ((await availableSlots(token)) === before ? true : undefined))).toBe(true);

    const topologyQuery = 'query($id: ID!) { adminNodeSliceTopology(id: $id) { discoveredAt gpus { instances { profile allocationId } } } }';
    type Topology = { adminNodeSliceTopology: { discoveredAt: string; gpus: Array<{ instances: Array<{ profile: string }> }> } };
    const topologyBefore = (await gql<Topology>(topologyQuery, { id: stack.node.id }, operator)).adminNodeSliceTopology;
    const { adminDiscoverNodeSliceTopology: accepted } = await gql<{ adminDiscoverNodeSliceTopology: { taskId: string; kind: string } }>(
      'mutation($input: AdminDiscoverNodeSliceTopologyInput!) { adminDiscoverNodeSliceTopology(input: $input) { taskId kind state } }',
      { input: { id: stack.node.id } },
      operator,
    );
    expect(accepted.kind).toBe('discover_slice_topology');
    await until('the discovery task to succeed', async () => ((await taskState(accepted.taskId)) === 'succeeded' ? true : undefined));
    const topology = (await gql<Topology>(topologyQuery, { id: stack.node.id }, operator)).adminNodeSliceTopology;
    expect(Date.parse(topology.discoveredAt)).toBeGreaterThan(Date.parse(topologyBefore.discoveredAt));
    expect(topology.gpus.flatMap((gpu) => gpu.instances).filter((instance) => instance.profile === PROFILE)).toHaveLength(21);
    expect(await auditRow('node.slice_topology_discover', stack.node.id)).toContainEqual({ actor_id: stack.operator.userId, details: expect.objectContaining({ task_id: accepted.taskId }) });

    const second = await create('to-force-release');
    await seen(feed, second.id, 'ACTIVE');
    const { adminForceReleaseAllocation: forced } = await gql<{ adminForceReleaseAllocation: { state: string; stateReason: string } }>(
      'mutation($input: AdminForceReleaseAllocationInput!) { adminForceReleaseAllocation(input: $input) { state stateReason } }',
      { input: { id: second.id, reason: 'abuse report 4412' } },
      operator,
    );
    expect(forced).toEqual({ state: 'RELEASING', stateReason: 'admin_force_release' });
    expect(await seen(feed, second.id, 'RELEASED')).toMatchObject({ stateReason: 'admin_force_release' });
    expect(await auditRow('allocation.force_release', second.id)).toEqual([expect.objectContaining({ actor_id: stack.operator.userId })]);
    expect(await until('availability restored again', async () => ((await availableSlots(token)) === before ? true : undefined))).toBe(true);
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_GPU_MODEL, NODE_REGION, PLATFORM_PASSWORD, startPlatformStack, until, type PlatformStack } from './support/platform-stack.js';
import { restCall, type RestAnswer, type RestRequest } from './support/rest-client.js';

// Issue 4's reliability requirement, end to end through the REST adapter on the whole platform (real simulated
// agent, workers, gateway, subgraphs): 200 concurrent `POST /allocations` for 100 free slots → exactly 100 active,
// 100 `capacity_unavailable`, 0 slots held twice.

const PROFILE = '1g.10gb';
const FREE_SLOTS = 100;
const REQUESTS = 2 * FREE_SLOTS;
/** Several users, so placements really race each other (one user's creations are serialised by the quota lock). */
const USERS = 20;
const REQUESTS_PER_USER = REQUESTS / USERS;
const LIVE_STATES = ['requested', 'provisioning', 'active', 'releasing'];

/**
 * Exactly 100 slots of one profile on one node: a simulated host has at most 16 cards, so 100 whole cards cannot be
 * one node; 14 cards split into seven 1g.10gb slices each plus a card holding two more make 98 + 2.
 */
const layout = {
  gpus: [
    { name: 'NVIDIA H100 80GB HBM3', memory_gib: 80, count: 14, mig: Array.from({ length: 7 }, () => PROFILE) },
    { name: 'NVIDIA H100 80GB HBM3', memory_gib: 80, count: 1, mig: [PROFILE, PROFILE] },
  ],
};

let stack: PlatformStack;

beforeAll(async () => {
  stack = await startPlatformStack({
    layout,
    agentConcurrency: 16,
    logLevel: process.env['E2E_LOG_LEVEL'] ?? 'silent',
    // Every role but billing's metering: money is not what this test is about (and no wallet here holds any).
    workerRoles: 'outbox-relay,dlq-handler,provisioning-worker,webhook-worker,node-monitor,notification-relay',
    env: {
      POLICY_MIN_RUNWAY_FOR_NEW_ALLOCATION_SECONDS: '0',
      // Any one user may win every one of their requests; the quota must never be what refuses.
      POLICY_MAX_LIVE_ALLOCATIONS_PER_USER: String(REQUESTS_PER_USER),
      // Registrations count against the per-IP attempt limit, and all of them come from this one IP.
      POLICY_LOGIN_ATTEMPTS_PER_IP_PER_15M: '1000',
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const rest = (token: string | undefined, operationId: string, method: string, path: string, request: Omit<RestRequest, 'token'> = {}) =>
  restCall(stack.restUrl, operationId, method, path, { ...request, token });
const mutate = (token: string | undefined, operationId: string, method: string, path: string, body?: unknown) =>
  rest(token, operationId, method, path, { ...(body !== undefined ? { body } : {}), headers: { 'x-idempotency-key': randomUUID() } });
function ok(answer: RestAnswer, status: number): Record<string, any> {
  expect(answer.status, answer.text).toBe(status);
  return answer.json as Record<string, any>;
}

interface User {
  readonly id: string;
  readonly token: string;
  readonly projectId: string;
}

async function newUser(index: number): Promise<User> {
  const email = `racer-${index}-${randomUUID().slice(0, 8)}@example.com`;
  const registered = ok(await mutate(undefined, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', { email, password: PLATFORM_PASSWORD, display_name: `Racer ${index}` }), 201);
  return { id: registered['user']['id'], token: registered['tokens']['access_token'], projectId: registered['user']['personal_project_id'] };
}

async function availableSlots(token: string): Promise<number> {
  const page = ok(await rest(token, 'listCatalogGpus', 'GET', `/api/v1/catalog/gpus?region=${NODE_REGION}&model=${NODE_GPU_MODEL}`), 200) as {
    data: Array<{ profiles: Array<{ name: string; offers: Array<{ region: string; available_slots: number }> }> }>;
  };
  const offer = page.data[0]?.profiles.find((profile) => profile.name === PROFILE)?.offers.find((o) => o.region === NODE_REGION);
  return offer?.available_slots ?? 0;
}

/** How many allocations are in each state, polled until `state` holds all of them. */
async function untilAllIn(state: string, count: number): Promise<void> {
  let seen: Record<string, number> = {};
  await until(
    () => `all ${count} allocations ${state}; states ${JSON.stringify(seen)}`,
    async () => {
      const { rows } = await stack.db.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM compute.allocations GROUP BY state');
      seen = Object.fromEntries(rows.map((row) => [row.state, row.n]));
      return seen[state] === count ? true : undefined;
    },
    30_000,
    100,
  );
}

describe('200 concurrent POST /api/v1/allocations for 100 free slots', () => {
  it('answers exactly 100 × 202 and 100 × 409 capacity_unavailable, all 100 go active on distinct slots, and releasing them restores availability', async () => {
    const { rows: slots } = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM compute.slots s JOIN compute.slice_profiles p ON p.id = s.profile_id
        WHERE s.node_id = $1 AND s.state = 'free' AND p.name = $2`,
      [stack.node.id, PROFILE],
    );
    expect(slots[0]!.n).toBe(FREE_SLOTS);

    const users: User[] = [];
    for (let index = 0; index < USERS; index++) users.push(await newUser(index));
    const osImageId = (ok(await rest(users[0]!.token, 'listCatalogOsImages', 'GET', '/api/v1/catalog/os-images'), 200) as { data: Array<{ id: string }> }).data[0]!.id;
    expect(await availableSlots(users[0]!.token)).toBe(FREE_SLOTS);

    const requests = Array.from({ length: REQUESTS }, (_, index) => ({ user: users[index % USERS]!, index }));
    const started = Date.now();
    const answers = await Promise.all(
      requests.map(({ user, index }) =>
        mutate(user.token, 'createAllocation', 'POST', '/api/v1/allocations', {
          project_id: user.projectId,
          name: `race-${index}`,
          gpu_model: NODE_GPU_MODEL,
          profile_name: PROFILE,
          region: NODE_REGION,
          os_image_id: osImageId,
          ssh_key_ids: [],
        }).then((answer) => ({ user, answer })),
      ),
    );
    const elapsedMs = Date.now() - started;

    const byStatus = new Map<string, number>();
    for (const { answer } of answers) {
      const key = answer.status === 202 ? '202' : `${answer.status} ${(answer.json as { code?: string } | undefined)?.code}`;
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries(byStatus), `answers after ${elapsedMs} ms`).toEqual({ '202': FREE_SLOTS, '409 capacity_unavailable': REQUESTS - FREE_SLOTS });
    const accepted = answers.filter(({ answer }) => answer.status === 202).map(({ user, answer }) => ({ user, allocation: answer.json as { id: string; state: string } }));
    expect(new Set(accepted.map(({ allocation }) => allocation.id)).size).toBe(FREE_SLOTS);
    // The answer is read back after the commit, so the provisioning worker may already have moved it on.
    for (const { allocation } of accepted) expect(['requested', 'provisioning', 'active']).toContain(allocation.state);

    // A refusal holds nothing: the only rows are the accepted ones.
    const { rows: created } = await stack.db.query<{ id: string }>('SELECT id FROM compute.allocations');
    expect(new Set(created.map((row) => row.id))).toEqual(new Set(accepted.map(({ allocation }) => allocation.id)));

    await untilAllIn('active', FREE_SLOTS);

    // No slot held by two live allocations, and the 100 hold 100 distinct slots of the node.
    const { rows: doubled } = await stack.db.query(
      'SELECT slot_id, count(*)::int AS n FROM compute.allocations WHERE state = ANY ($1) GROUP BY slot_id HAVING count(*) > 1',
      [LIVE_STATES],
    );
    expect(doubled).toEqual([]);
    const { rows: held } = await stack.db.query<{ slots: number; nodes: string[]; unplaced: number }>(
      `SELECT count(DISTINCT slot_id)::int AS slots, array_agg(DISTINCT node_id::text) AS nodes, count(*) FILTER (WHERE slot_id IS NULL)::int AS unplaced
         FROM compute.allocations WHERE state = 'active'`,
    );
    expect(held[0]).toEqual({ slots: FREE_SLOTS, nodes: [stack.node.id], unplaced: 0 });

    // Exactly one provision task per allocation, each run once to success.
    const { rows: tasks } = await stack.db.query<{ allocation_id: string; kind: string; n: number; states: string[] }>(
      `SELECT allocation_id, kind, count(*)::int AS n, array_agg(state) AS states FROM compute.node_tasks
        WHERE allocation_id IS NOT NULL GROUP BY allocation_id, kind`,
    );
    expect(tasks.filter((task) => task.n !== 1)).toEqual([]);
    expect(tasks.filter((task) => task.kind === 'provision' && task.states[0] === 'succeeded')).toHaveLength(FREE_SLOTS);

    expect(await availableSlots(users[0]!.token)).toBe(0);

    const releases = await Promise.all(
      accepted.map(({ user, allocation }) => mutate(user.token, 'releaseAllocation', 'POST', `/api/v1/allocations/${allocation.id}/release`)),
    );
    expect(releases.map((answer) => answer.status)).toEqual(accepted.map(() => 202));
    await untilAllIn('released', FREE_SLOTS);
    expect(await until('availability back to 100', async () => ((await availableSlots(users[0]!.token)) === FREE_SLOTS ? true : undefined), 10_000, 100)).toBe(true);
    const { rows: releaseTasks } = await stack.db.query<{ n: number }>(
      "SELECT count(DISTINCT allocation_id)::int AS n FROM compute.node_tasks WHERE kind = 'release' AND state = 'succeeded'",
    );
    expect(releaseTasks[0]!.n).toBe(FREE_SLOTS);
  }, 90_000);
});

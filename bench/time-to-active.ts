/**
 * Benchmark: control-plane time to active with the simulated driver at zero provisioning delay.
 *
 *   C users each send one `POST /api/v1/allocations` at the same moment (C concurrent requests); each allocation is
 *   timed until its `ACTIVE` update reaches that user's graphql-ws subscription (`allocationUpdated(projectId)`) at
 *   the gateway, from two starts: the request's answer (202 received: "accepted") and the request being sent.
 *   Between rounds every allocation is released (and seen RELEASED) so the next round finds the same free slots.
 *
 * The whole platform runs in this process (e2e/test/support/platform-stack.ts): fresh migrated database with the demo
 * catalog, private nats-server, Redis prefix, five subgraphs, gateway, REST adapter with the node-agent API, every
 * worker role, and one simulated agent registered through adminCreateNode. The subscribers are in this process too.
 * Afterwards, each allocation's path is split into stages from the timestamps the database recorded (same clock).
 *
 *   npx tsx bench/time-to-active.ts [--concurrency 20] [--rounds 5] [--agent-concurrency 4] [--out results.json]
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Client } from 'graphql-ws';
import { subscribe, wsClient, type Subscription } from '../gateway/test/support/ws-client.js';
import { NODE_GPU_MODEL, NODE_REGION, PLATFORM_PASSWORD, startPlatformStack, until, type PlatformStack } from '../e2e/test/support/platform-stack.js';
import { newSshPublicKey } from '../e2e/test/support/ssh-keys.js';
import { percentile } from './support/fixed-rate-load.js';
import { stageBreakdown, type StageRow } from './support/active-stages.js';

const { values: args } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '5' },
    'warmup-rounds': { type: 'string', default: '1' },
    'agent-concurrency': { type: 'string', default: '4' },
    out: { type: 'string' },
  },
});
const concurrency = Number(args.concurrency);
const rounds = Number(args.rounds);
const warmupRounds = Number(args['warmup-rounds']);
const PROFILE = '1g.10gb';
/** 4 H100s split into seven 1g.10gb slices each: 28 slots, enough for 20 at once. */
const layout = { gpus: [{ name: 'NVIDIA H100 80GB HBM3', memory_gib: 80, count: Math.max(1, Math.ceil(concurrency / 7)), mig: Array.from({ length: 7 }, () => PROFILE) }] };

interface Update {
  readonly allocationUpdated: { readonly id: string; readonly state: string };
}

interface User {
  readonly token: string;
  readonly projectId: string;
  readonly sshKeyId: string;
  readonly socket: Client;
  readonly feed: Subscription<Update>;
}

/** performance.now() of the first time each `${id}/${state}` reached a subscriber. */
const seenAt = new Map<string, number>();

async function json<T>(response: Response, expected: number, what: string): Promise<T> {
  const text = await response.text();
  // ci-allow canonical_error_guard: benchmark tool
  if (response.status !== expected) throw new Error(`${what} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

function post(stack: PlatformStack, path: string, token: string | undefined, body: unknown): Promise<Response> {
  return fetch(stack.restUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-idempotency-key': randomUUID(), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

async function newUser(stack: PlatformStack, index: number): Promise<User> {
  const email = `bench-${index}-${randomUUID().slice(0, 8)}@example.com`;
  const registered = await json<{ user: { id: string; personal_project_id: string }; tokens: { access_token: string } }>(
    await post(stack, '/api/v1/auth/personal/register', undefined, { email, password: PLATFORM_PASSWORD, display_name: `Bench ${index}` }),
    201,
    'register',
  );
  const token = registered.tokens.access_token;
  const key = await json<{ id: string }>(await post(stack, '/api/v1/ssh-keys', token, { name: 'bench', public_key: newSshPublicKey(`bench-${index}`).line }), 201, 'createSshKey');
  // Billing meters an active allocation against the creator's wallet; an empty one would be released for depletion.
  await json(await post(stack, '/api/v1/admin/billing/credits', stack.operator.token, { user_id: registered.user.id, amount: { amount_minor: 100_000, currency: 'USD' }, reason: 'benchmark credit' }), 201, 'adminGrantCredit');
  const socket = wsClient(stack.gatewayUrl, { authorization: `Bearer ${token}` });
  const feed = subscribe<Update>(socket, 'subscription($p: ID!) { allocationUpdated(projectId: $p) { id state } }', { p: registered.user.personal_project_id });
  const user = { token, projectId: registered.user.personal_project_id, sshKeyId: key.id, socket, feed };
  watch(user);
  return user;
}

/** Stamps every update as it arrives (the subscription helper only collects results). */
function watch(user: User) {
  const results = user.feed.results;
  const push = results.push.bind(results);
  results.push = (...items) => {
    const now = performance.now();
    for (const item of items) {
      const update = item.data?.allocationUpdated;
      if (update && !seenAt.has(`${update.id}/${update.state}`)) seenAt.set(`${update.id}/${update.state}`, now);
    }
    return push(...items);
  };
}

async function waitSeen(ids: readonly string[], state: string, timeoutMs = 30_000) {
  await until(() => `${ids.filter((id) => !seenAt.has(`${id}/${state}`)).length} of ${ids.length} ${state}`, async () => (ids.every((id) => seenAt.has(`${id}/${state}`)) ? true : undefined), timeoutMs, 2);
}

interface Sample {
  readonly allocationId: string;
  readonly sentAt: number;
  readonly acceptedAt: number;
  readonly activeSeenAt: number;
  /** Date.now() - performance.now() when the request was sent, to place database timestamps on the same clock. */
  readonly wallOffset: number;
}

async function round(stack: PlatformStack, users: readonly User[], osImageId: string): Promise<Sample[]> {
  const started = await Promise.all(
    users.map(async (user) => {
      const wallOffset = Date.now() - performance.now();
      const sentAt = performance.now();
      const response = await post(stack, '/api/v1/allocations', user.token, {
        project_id: user.projectId,
        gpu_model: NODE_GPU_MODEL,
        profile_name: PROFILE,
        region: NODE_REGION,
        os_image_id: osImageId,
        ssh_key_ids: [user.sshKeyId],
      });
      const acceptedAt = performance.now();
      const { id } = await json<{ id: string }>(response, 202, 'createAllocation');
      return { allocationId: id, sentAt, acceptedAt, wallOffset };
    }),
  );
  const ids = started.map((sample) => sample.allocationId);
  await waitSeen(ids, 'ACTIVE');
  const samples = started.map((sample) => ({ ...sample, activeSeenAt: seenAt.get(`${sample.allocationId}/ACTIVE`)! }));
  await Promise.all(users.map((user, index) => post(stack, `/api/v1/allocations/${ids[index]}/release`, user.token, undefined).then((r) => json(r, 202, 'releaseAllocation'))));
  await waitSeen(ids, 'RELEASED');
  return samples;
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1]!, n: sorted.length };
};
const fmt = (s: ReturnType<typeof summary>) => `p50 ${s.p50.toFixed(1)} ms  p90 ${s.p90.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms  max ${s.max.toFixed(1)} ms  (n=${s.n})`;

async function main() {
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0]!.toFixed(1);
  const stack = await startPlatformStack({ layout, agentConcurrency: Number(args['agent-concurrency']), workerRoles: 'all' });
  const users: User[] = [];
  try {
    for (let index = 0; index < concurrency; index++) users.push(await newUser(stack, index));
    // Each feed's catch-up (the project's current allocations: none) marks the subscription as live.
    await until('every subscription to be live', async () => (users.every((user) => user.feed.failure === undefined) ? true : undefined));
    const images = await json<{ data: Array<{ id: string }> }>(await fetch(`${stack.restUrl}/api/v1/catalog/os-images`, { headers: { authorization: `Bearer ${users[0]!.token}` } }), 200, 'listCatalogOsImages');
    const osImageId = images.data[0]!.id;

    for (let index = 0; index < warmupRounds; index++) await round(stack, users, osImageId);
    const samples: Sample[] = [];
    const cpuBefore = process.cpuUsage();
    for (let index = 0; index < rounds; index++) {
      const got = await round(stack, users, osImageId);
      samples.push(...got);
      process.stdout.write(`round ${index + 1}/${rounds}: accepted→ACTIVE ${fmt(summary(got.map((s) => s.activeSeenAt - s.acceptedAt)))}\n`);
    }
    const cpu = process.cpuUsage(cpuBefore);
    // Create + active + release + released of one allocation, in this process (everything but Postgres, NATS, Redis).
    const cpuPerAllocationMs = (cpu.user + cpu.system) / 1000 / samples.length;
    const fromAccepted = summary(samples.map((s) => s.activeSeenAt - s.acceptedAt));
    const fromSent = summary(samples.map((s) => s.activeSeenAt - s.sentAt));
    const accept = summary(samples.map((s) => s.acceptedAt - s.sentAt));
    const stages = await stageBreakdown(stack.db, samples.map((s) => ({ allocationId: s.allocationId, activeSeenWallMs: s.activeSeenAt + s.wallOffset, sentWallMs: s.sentAt + s.wallOffset })));

    const lines = [
      `time to active, ${concurrency} concurrent requests × ${rounds} rounds (+${warmupRounds} warm-up), agent task loops ${args['agent-concurrency']}`,
      `machine: ${os.cpus().length}× ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB, Node ${process.version}; load average at start ${loadAtStart}, at end ${os.loadavg()[0]!.toFixed(1)}; ${startedAt.toISOString()}`,
      `  request sent → 202 received:        ${fmt(accept)}`,
      `  202 received → ACTIVE at subscriber: ${fmt(fromAccepted)}`,
      `  request sent → ACTIVE at subscriber: ${fmt(fromSent)}`,
      `  platform CPU in this process per allocation (create → active → release → released): ${cpuPerAllocationMs.toFixed(1)} ms`,
      'stages (from database timestamps; p50 / p99 ms):',
      ...stages.map((stage: StageRow) => `  ${stage.stage.padEnd(58)} ${stage.p50.toFixed(1).padStart(7)} / ${stage.p99.toFixed(1).padStart(7)}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (args.out) await writeFile(args.out, JSON.stringify({ startedAt, concurrency, rounds, cpuPerAllocationMs, accept, fromAccepted, fromSent, stages }, null, 2));
  } finally {
    for (const user of users) await Promise.resolve(user.socket.dispose()).catch(() => undefined);
    await stack.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);

/**
 * Benchmark: control-plane time to active with the simulated driver at zero provisioning delay.
 *
 *   C users each send one `POST /api/v1/allocations` at the same moment (C concurrent requests); each allocation is
 *   timed until its `ACTIVE` update reaches that user's graphql-ws subscription (`allocationUpdated(projectId)`) at
 *   the gateway, from two starts: the request's answer (202 received: "accepted") and the request being sent.
 *   Between rounds every allocation is released (and seen RELEASED) so the next round finds the same free slots.
 *
 * Two shapes of the platform (fresh migrated database with the demo catalog, private nats-server, Redis prefix, five
 * subgraphs, gateway, REST adapter with the node-agent API, every worker role, one simulated agent registered through
 * adminCreateNode):
 *   --processes (default)  the production shape (bench/support/platform-processes.ts): subgraphs, gateway, REST
 *                          adapter, workers and the agent's own CLI each in their own Node process; the adapter
 *                          runs the gateway's engine in process (--rest-gateway-mode embedded, as `npm start` does)
 *                          or sends its GraphQL to the gateway process (remote);
 *   --single-process       everything in this process (e2e/test/support/platform-stack.ts), one event loop.
 * The subscribers are in this process either way. Afterwards, each allocation's path is split into stages from the
 * timestamps the database recorded (same clock), and the CPU each process used is divided by the allocations.
 *
 *   npx tsx bench/time-to-active.ts [--processes | --single-process] [--concurrency 20] [--rounds 10] [--warmup-rounds 5]
 *                                   [--agent-concurrency 4] [--rest-gateway-mode embedded|remote] [--out results.json]
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Client } from 'graphql-ws';
import { subscribe, wsClient, type Subscription } from '../gateway/test/support/ws-client.js';
import { NODE_GPU_MODEL, NODE_REGION, PLATFORM_PASSWORD, startPlatformStack, until } from '../e2e/test/support/platform-stack.js';
import { newSshPublicKey } from '../e2e/test/support/ssh-keys.js';
import { percentile } from './support/fixed-rate-load.js';
import { stageBreakdown, type StageRow } from './support/active-stages.js';
import { postgresBackendCpu, postgresCpuBetween, startPlatformProcesses, type PlatformProcesses } from './support/platform-processes.js';

const { values: args } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '10' },
    /**
     * Rounds run before measuring: a running control plane's state, not a cold start. Postgres plans each named
     * statement afresh for its first five executions on every pooled connection (pools of 10-20) before it may
     * cache a generic plan, and V8 optimises the hot paths; 5 rounds (100 allocations) get past both.
     */
    'warmup-rounds': { type: 'string', default: '5' },
    /** Seconds with no allocations after the warm-up, to read what each process burns in the background. */
    'idle-seconds': { type: 'string', default: '5' },
    'agent-concurrency': { type: 'string', default: '4' },
    processes: { type: 'boolean', default: false },
    'single-process': { type: 'boolean', default: false },
    /** Processes shape only: the REST adapter's GATEWAY_MODE; embedded is what `npm start` (scripts/dev.ts) runs. */
    'rest-gateway-mode': { type: 'string', default: 'embedded' },
    /** Processes shape only: the outbox relay in its own process, the other worker roles in another. */
    'relay-apart': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const concurrency = Number(args.concurrency);
const rounds = Number(args.rounds);
const warmupRounds = Number(args['warmup-rounds']);
if (args.processes && args['single-process']) throw new Error('--processes and --single-process exclude each other');
const shape: 'processes' | 'single-process' = args['single-process'] ? 'single-process' : 'processes';
const restGatewayModeArg = args['rest-gateway-mode'];
if (restGatewayModeArg !== 'embedded' && restGatewayModeArg !== 'remote') throw new Error('--rest-gateway-mode is embedded or remote');
const restGatewayMode: 'embedded' | 'remote' = restGatewayModeArg;
const PROFILE = '1g.10gb';
/** 4 H100s split into seven 1g.10gb slices each: 28 slots, enough for 20 at once. */
const layout = { gpus: [{ name: 'NVIDIA H100 80GB HBM3', memory_gib: 80, count: Math.max(1, Math.ceil(concurrency / 7)), mig: Array.from({ length: 7 }, () => PROFILE) }] };

/**
 * What the rounds need of a running platform, whichever its shape; the single-process shape has no processes of its
 * own to meter (it is all this process).
 */
type Platform = PlatformProcesses;

async function startPlatform(agentConcurrency: number): Promise<Platform> {
  if (shape === 'processes') return startPlatformProcesses({ layout, agentConcurrency, restGatewayMode, relayApart: args['relay-apart'] });
  const stack = await startPlatformStack({ layout, agentConcurrency, workerRoles: 'all' });
  return { restUrl: stack.restUrl, gatewayUrl: stack.gatewayUrl, db: stack.db, operatorToken: stack.operator.token, processes: [], close: () => stack.close() };
}

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

/** What the harness reads of an answer. */
interface Answer {
  readonly status: number;
  readonly text: string;
}

async function json<T>(answer: Answer | Promise<Answer>, expected: number, what: string): Promise<T> {
  const { status, text } = await answer;
  // ci-allow canonical_error_guard: benchmark tool
  if (status !== expected) throw new Error(`${what} answered ${status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * The harness's HTTP client: node:http over kept-alive connections. It shares the two cores with the platform it
 * measures, and fetch costs several times the CPU per request (20 of them land in each burst).
 */
const keepAlive = new http.Agent({ keepAlive: true });

function request(url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = http.request(url, { method, agent: keepAlive, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

function post(stack: Platform, path: string, token: string | undefined, body: unknown): Promise<Answer> {
  const headers = { 'content-type': 'application/json', 'x-idempotency-key': randomUUID(), ...(token ? { authorization: `Bearer ${token}` } : {}) };
  return request(stack.restUrl + path, 'POST', headers, body === undefined ? undefined : JSON.stringify(body));
}

async function newUser(stack: Platform, index: number): Promise<User> {
  const email = `bench-${index}-${randomUUID().slice(0, 8)}@example.com`;
  const registered = await json<{ user: { id: string; personal_project_id: string }; tokens: { access_token: string } }>(
    await post(stack, '/api/v1/auth/personal/register', undefined, { email, password: PLATFORM_PASSWORD, display_name: `Bench ${index}` }),
    201,
    'register',
  );
  const token = registered.tokens.access_token;
  const key = await json<{ id: string }>(await post(stack, '/api/v1/ssh-keys', token, { name: 'bench', public_key: newSshPublicKey(`bench-${index}`).line }), 201, 'createSshKey');
  // Billing meters an active allocation against the creator's wallet; an empty one would be released for depletion.
  await json(await post(stack, '/api/v1/admin/billing/credits', stack.operatorToken, { user_id: registered.user.id, amount: { amount_minor: 100_000, currency: 'USD' }, reason: 'benchmark credit' }), 201, 'adminGrantCredit');
  const socket = wsClient(stack.gatewayUrl, { authorization: `Bearer ${token}` });
  const feed = subscribe<Update>(socket, 'subscription($p: ID!) { allocationUpdated(projectId: $p) { id state } }', { p: registered.user.personal_project_id });
  const user = { token, projectId: registered.user.personal_project_id, sshKeyId: key.id, socket, feed };
  watch(user);
  return user;
}

/** Waiters for states to be seen, checked as updates arrive (no polling loop beside the platform on two cores). */
const seenWaiters = new Set<() => void>();

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
    for (const check of seenWaiters) check();
    return push(...items);
  };
}

function waitSeen(ids: readonly string[], state: string, timeoutMs = 30_000): Promise<void> {
  const missing = () => ids.filter((id) => !seenAt.has(`${id}/${state}`));
  return new Promise((resolve, reject) => {
    const check = () => {
      if (missing().length > 0) return;
      seenWaiters.delete(check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      seenWaiters.delete(check);
      // ci-allow canonical_error_guard: benchmark tool
      reject(new Error(`timed out waiting for ${missing().length} of ${ids.length} ${state}`));
    }, timeoutMs);
    seenWaiters.add(check);
    check();
  });
}

interface Sample {
  readonly allocationId: string;
  readonly sentAt: number;
  readonly acceptedAt: number;
  readonly activeSeenAt: number;
  /** Date.now() - performance.now() when the request was sent, to place database timestamps on the same clock. */
  readonly wallOffset: number;
}

async function round(stack: Platform, users: readonly User[], osImageId: string): Promise<Sample[]> {
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
  await Promise.all(users.map((user, index) => json(post(stack, `/api/v1/allocations/${ids[index]}/release`, user.token, undefined), 202, 'releaseAllocation')));
  await waitSeen(ids, 'RELEASED');
  return samples;
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1]!, n: sorted.length };
};
const fmt = (s: ReturnType<typeof summary>) => `p50 ${s.p50.toFixed(1)} ms  p90 ${s.p90.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms  max ${s.max.toFixed(1)} ms  (n=${s.n})`;

/** CPU seconds used so far by this process and by each of the platform's processes, and by its Postgres backends. */
async function cpuReading(stack: Platform) {
  const usage = process.cpuUsage();
  const byProcess: Record<string, number> = { bench: (usage.user + usage.system) / 1e6 };
  for (const child of stack.processes) byProcess[child.role] = child.cpuSeconds();
  return { byProcess, postgres: await postgresBackendCpu(stack.db) };
}

function gitState(): { commit: string; dirty: string[] } {
  try {
    const commit = execFileSync('git', ['log', '-1', '--format=%h'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--short'], { encoding: 'utf8' }).split('\n').filter((line) => line.trim() !== '');
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: [] };
  }
}

async function main() {
  const startedAt = new Date();
  const loadAtStart = os.loadavg().map((value) => value.toFixed(2)).join(' / ');
  const git = gitState();
  const stack = await startPlatform(Number(args['agent-concurrency']));
  const users: User[] = [];
  try {
    for (let index = 0; index < concurrency; index++) users.push(await newUser(stack, index));
    // Each feed's catch-up (the project's current allocations: none) marks the subscription as live.
    await until('every subscription to be live', async () => (users.every((user) => user.feed.failure === undefined) ? true : undefined));
    const images = await json<{ data: Array<{ id: string }> }>(request(`${stack.restUrl}/api/v1/catalog/os-images`, 'GET', { authorization: `Bearer ${users[0]!.token}` }), 200, 'listCatalogOsImages');
    const osImageId = images.data[0]!.id;

    for (let index = 0; index < warmupRounds; index++) await round(stack, users, osImageId);
    // Background work (timers, heartbeats, telemetry, pollers) also lands in the rounds' CPU; read its rate alone.
    const idleSeconds = Number(args['idle-seconds']);
    const idleBefore = await cpuReading(stack);
    const idleStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const idleAfter = await cpuReading(stack);
    const idleElapsed = (performance.now() - idleStarted) / 1000;
    const idleMsPerSecond: Record<string, number> = Object.fromEntries(
      Object.entries(idleAfter.byProcess).map(([role, seconds]) => [role, ((seconds - (idleBefore.byProcess[role] ?? Number.NaN)) * 1000) / idleElapsed]),
    );
    const samples: Sample[] = [];
    const roundsStarted = performance.now();
    const cpuBefore = await cpuReading(stack);
    for (let index = 0; index < rounds; index++) {
      const got = await round(stack, users, osImageId);
      samples.push(...got);
      process.stdout.write(`round ${index + 1}/${rounds}: accepted→ACTIVE ${fmt(summary(got.map((s) => s.activeSeenAt - s.acceptedAt)))}\n`);
    }
    const cpuAfter = await cpuReading(stack);
    const roundsSeconds = (performance.now() - roundsStarted) / 1000;
    // Create + active + release + released of one allocation, per process (ms); Postgres: this database's backends.
    const perAllocationMs = (seconds: number) => (seconds * 1000) / samples.length;
    const cpuPerAllocationMs: Record<string, number> = Object.fromEntries(
      Object.entries(cpuAfter.byProcess).map(([role, seconds]) => [role, perAllocationMs(seconds - (cpuBefore.byProcess[role] ?? Number.NaN))]),
    );
    const nodeTotalMs = Object.entries(cpuPerAllocationMs).filter(([role]) => role !== 'nats-server').reduce((sum, [, ms]) => sum + ms, 0);
    const postgresMs = perAllocationMs(postgresCpuBetween(cpuBefore.postgres, cpuAfter.postgres));
    const fromAccepted = summary(samples.map((s) => s.activeSeenAt - s.acceptedAt));
    const fromSent = summary(samples.map((s) => s.activeSeenAt - s.sentAt));
    const accept = summary(samples.map((s) => s.acceptedAt - s.sentAt));
    const stages = await stageBreakdown(stack.db, samples.map((s) => ({ allocationId: s.allocationId, activeSeenWallMs: s.activeSeenAt + s.wallOffset, sentWallMs: s.sentAt + s.wallOffset })));
    const loadAtEnd = os.loadavg().map((value) => value.toFixed(2)).join(' / ');
    const goalMet = fromAccepted.p50 <= 100 && fromAccepted.p99 <= 500;

    const benchRole = shape === 'processes' ? 'bench (subscribers, REST client)' : 'bench (whole platform + subscribers)';
    const lines = [
      `time to active, ${shape}${shape === 'processes' ? ` (REST adapter GATEWAY_MODE=${restGatewayMode})` : ''}, ${concurrency} concurrent requests × ${rounds} rounds (+${warmupRounds} warm-up), agent task loops ${args['agent-concurrency']}`,
      `machine: ${os.cpus().length}× ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB, Node ${process.version}; load average (1/5/15 min) at start ${loadAtStart}, at end ${loadAtEnd}; ${startedAt.toISOString()}`,
      `code: ${git.commit}${git.dirty.length > 0 ? ` + ${git.dirty.length} changed/untracked paths (${git.dirty.slice(0, 10).map((line) => line.trim()).join(', ')}${git.dirty.length > 10 ? ', …' : ''})` : ', clean'}`,
      `  request sent → 202 received:        ${fmt(accept)}`,
      `  202 received → ACTIVE at subscriber: ${fmt(fromAccepted)}`,
      `  request sent → ACTIVE at subscriber: ${fmt(fromSent)}`,
      `  goal 202 → ACTIVE p50 ≤ 100 ms and p99 ≤ 500 ms at 20 concurrent: ${concurrency === 20 ? (goalMet ? 'met' : 'NOT met') : `not judged (${concurrency} concurrent)`}`,
      `CPU per allocation (create → active → release → released), ms; background CPU (${idleSeconds} s idle), ms per s, and its share of the rounds' ${roundsSeconds.toFixed(1)} s, ms per allocation:`,
      ...Object.entries(cpuPerAllocationMs).map(
        ([role, ms]) =>
          `  ${(role === 'bench' ? benchRole : role).padEnd(40)} ${ms.toFixed(1).padStart(7)}   idle ${(idleMsPerSecond[role] ?? Number.NaN).toFixed(1).padStart(6)} ms/s → ${(((idleMsPerSecond[role] ?? Number.NaN) * roundsSeconds) / samples.length).toFixed(1).padStart(5)}`,
      ),
      ...(shape === 'processes' ? [`  ${'(platform Node processes, without bench)'.padEnd(40)} ${(nodeTotalMs - cpuPerAllocationMs['bench']!).toFixed(1).padStart(7)}`] : []),
      `  ${'(all Node processes)'.padEnd(40)} ${nodeTotalMs.toFixed(1).padStart(7)}`,
      `  ${'postgres backends of this database'.padEnd(40)} ${postgresMs.toFixed(1).padStart(7)}`,
      'stages (from database timestamps; p50 / p99 ms):',
      ...stages.map((stage: StageRow) => `  ${stage.stage.padEnd(70)} ${stage.p50.toFixed(1).padStart(7)} / ${stage.p99.toFixed(1).padStart(7)}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (args.out) {
      const report = { startedAt, shape, restGatewayMode: shape === 'processes' ? restGatewayMode : undefined, concurrency, rounds, agentConcurrency: Number(args['agent-concurrency']), loadAtStart, loadAtEnd, git, cpuPerAllocationMs, nodeTotalMs, postgresMs, idleSeconds, idleMsPerSecond, roundsSeconds, accept, fromAccepted, fromSent, goalMet, stages };
      await writeFile(args.out, JSON.stringify(report, null, 2));
    }
  } finally {
    for (const user of users) await Promise.resolve(user.socket.dispose()).catch(() => undefined);
    keepAlive.destroy();
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

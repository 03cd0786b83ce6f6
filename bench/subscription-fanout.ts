/**
 * Benchmark: fan-out of one allocation change to many live subscribers through ONE gateway process.
 *
 *   N real graphql-ws subscriptions (`allocationUpdated(projectId)`), spread over S websockets to one gateway; the
 *   gateway bridges each socket to the compute subgraph's own graphql-ws server. Then, R times: an allocation is
 *   created (one change) and released (another change) through the gateway's HTTP /graphql, and the time until
 *   every subscriber has the new state is measured: outbox row → outbox relay (workers) → JetStream PROVISIONING →
 *   compute subgraph's live feed (one read) → N upstream events → gateway bridge → N client messages.
 *
 * The subgraphs, the gateway and the workers (outbox relay) run as separate Node processes, as in production, over a
 * fresh database, Redis prefix and NATS namespace; the subscribers live in this (the loader) process.
 *
 *   npx tsx bench/subscription-fanout.ts [--subscriptions 5000] [--sockets 50] [--rounds 3] [--out results.json]
 *                                        [--with-project]   (adds `project { name }`: one access entity fetch per event)
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { createTestDatabase, createTestRedis, testNamespace } from '@gpuaas/testkit';
import { seedCapacity } from '../subgraphs/compute/test/support/allocation-world.js';
import { percentile } from './support/fixed-rate-load.js';
import { startServiceProcess, type ServiceProcess } from './support/processes.js';

const { values: args } = parseArgs({
  options: {
    subscriptions: { type: 'string', default: '5000' },
    sockets: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    'with-project': { type: 'boolean', default: false },
    'node-env': { type: 'string', default: 'production' },
    out: { type: 'string' },
  },
});
const subscriptionCount = Number(args.subscriptions);
const socketCount = Math.min(Number(args.sockets), subscriptionCount);
const rounds = Number(args.rounds);
/** How long every subscriber may take to see one change before the round counts the missing ones as lost. */
const DELIVERY_DEADLINE_MS = 30_000;

class TargetNotReady extends Error {}

async function graphql<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T | null; errors?: unknown[] };
  if (!body.data || body.errors) throw new TargetNotReady(`HTTP ${response.status}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

interface Change {
  readonly allocationId: string;
  readonly state: string;
}

/** When each subscriber first saw each (allocation, state), loader clock; kept for any key, so a delivery that
 * beats the mutation's answer (whose id it needs) is still counted. */
class Deliveries {
  readonly #seen = new Map<string, { readonly seenAt: Float64Array; count: number }>();

  #entry(change: Change) {
    let entry = this.#seen.get(keyOf(change));
    if (!entry) this.#seen.set(keyOf(change), (entry = { seenAt: new Float64Array(subscriptionCount).fill(Number.NaN), count: 0 }));
    return entry;
  }

  record(subscriber: number, change: Change, at: number): void {
    const entry = this.#entry(change);
    if (!Number.isNaN(entry.seenAt[subscriber]!)) return;
    entry.seenAt[subscriber] = at;
    entry.count++;
  }

  /** Resolves once every subscriber saw `change`, or at the deadline with whatever arrived. */
  async all(change: Change, deadlineMs: number): Promise<Float64Array> {
    const entry = this.#entry(change);
    const deadline = performance.now() + deadlineMs;
    while (entry.count < subscriptionCount && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    this.#seen.delete(keyOf(change));
    return entry.seenAt;
  }
}

const keyOf = (change: Change) => `${change.allocationId}:${change.state}`;

function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

async function main(): Promise<number> {
  const database = await createTestDatabase();
  const redis = await createTestRedis();
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  const processes: ServiceProcess[] = [];
  const clients: Client[] = [];
  const loadBefore = os.loadavg().map((value) => Number(value.toFixed(2)));
  const env = {
    NODE_ENV: args['node-env'],
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    NATS_URL: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    NATS_NAMESPACE: testNamespace(),
    GATEWAY_IDENTITY_SECRET: randomBytes(32).toString('hex'),
    MAIL_SENDER: 'outbox',
    // Released allocations stay RELEASING here (no agent), which still counts as live.
    POLICY_MAX_LIVE_ALLOCATIONS_PER_USER: String(rounds + 10),
    // Money is not what this measures: billing's admission check would refuse the benchmark's empty wallet.
    POLICY_MIN_RUNWAY_FOR_NEW_ALLOCATION_SECONDS: '0',
  };
  try {
    processes.push(await startServiceProcess('workers', { ...env, WORKER_ROLES: 'outbox-relay' }));
    const subgraphs = await startServiceProcess('subgraphs', env);
    processes.push(subgraphs);
    const graphqlOf = (name: string) => `${subgraphs.urls[name]}/graphql`;
    const gateway = await startServiceProcess('gateway', {
      ...env,
      ACCESS_URL: graphqlOf('access'),
      COMPUTE_URL: graphqlOf('compute'),
      BILLING_URL: graphqlOf('billing'),
      WORKLOADS_URL: graphqlOf('workloads'),
      PLATFORM_URL: graphqlOf('platform'),
    });
    processes.push(gateway);
    const gatewayUrl = gateway.urls['gateway']!;
    const graphqlUrl = `${gatewayUrl}/graphql`;

    const capacity = await seedCapacity(db, rounds + 2);
    const registered = await graphql<{ register: { user: { personalProjectId: string }; tokens: { accessToken: string } } }>(
      graphqlUrl,
      'mutation($input: RegisterInput!) { register(input: $input) { user { personalProjectId } tokens { accessToken } } }',
      { input: { email: `bench-${randomBytes(6).toString('hex')}@example.test`, password: `Bench-${randomBytes(12).toString('base64url')}-9`, displayName: 'Bench User' } },
    );
    const token = registered.register.tokens.accessToken;
    const projectId = registered.register.user.personalProjectId;
    const key = await graphql<{ createSshKey: { id: string } }>(
      graphqlUrl,
      'mutation($input: CreateSshKeyInput!) { createSshKey(input: $input) { id } }',
      { input: { name: 'bench', publicKey: `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), randomBytes(32)]).toString('base64')} bench` } },
      token,
    );
    const createAllocation = async () =>
      (
        await graphql<{ createAllocation: { id: string; state: string } }>(
          graphqlUrl,
          'mutation($input: CreateAllocationInput!) { createAllocation(input: $input) { id state } }',
          { input: { projectId, profileId: capacity.profileId, region: capacity.regionCode, osImageId: capacity.osImageId, sshKeyIds: [key.createSshKey.id] } },
          token,
        )
      ).createAllocation;
    const releaseAllocation = async (id: string) =>
      (await graphql<{ releaseAllocation: { id: string; state: string } }>(graphqlUrl, 'mutation($input: ReleaseAllocationInput!) { releaseAllocation(input: $input) { id state } }', { input: { id } }, token))
        .releaseAllocation;

    // Each subscription's first message is the catch-up (this anchor): it marks the subscription as established.
    const anchor = await createAllocation();
    const rssIdle = gateway.rssBytes();
    const deliveries = new Deliveries();
    const established = new Uint8Array(subscriptionCount);
    let establishedCount = 0;
    const failures: string[] = [];
    const selection = `id state updatedAt${args['with-project'] ? ' project { id name }' : ''}`;
    const query = `subscription Fanout($p: ID!) { allocationUpdated(projectId: $p) { ${selection} } }`;
    const wsUrl = `${gatewayUrl.replace(/^http/, 'ws')}/graphql`;
    const subscribeStarted = performance.now();
    // Sockets connect one after another (as browsers arriving), and retry like graphql-ws clients in the field do:
    // a refused connection_init (e.g. the revocation store timing out under load) is counted, then retried.
    let connectionRetries = 0;
    for (let socket = 0; socket < socketCount; socket++) {
      let connected!: () => void;
      const ready = new Promise<void>((resolve) => (connected = resolve));
      clients.push(
        createClient({
          url: wsUrl,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${token}` },
          lazy: false,
          retryAttempts: 5,
          shouldRetry: () => true,
          retryWait: async () => {
            connectionRetries++;
            await new Promise((resolve) => setTimeout(resolve, 200));
          },
          on: { connected: () => connected() },
          onNonLazyError: (error) => {
            if (failures.length < 5) failures.push(`socket ${socket}: ${String((error as { reason?: string }).reason ?? error)}`);
            connected();
          },
        }),
      );
      await ready;
    }
    // A subscription refused for a transient reason (internal_error, service_unavailable: the database slow to hand
    // out a connection under load) is started again, as a console would; each such retry is counted.
    let subscribeRetries = 0;
    const start = (subscriber: number, attempt: number): void => {
      let retried = false;
      const retry = (why: string) => {
        if (retried) return;
        retried = true;
        if (attempt >= 5) {
          if (failures.length < 5) failures.push(`subscriber ${subscriber}: ${why}`);
          return;
        }
        subscribeRetries++;
        setTimeout(() => start(subscriber, attempt + 1), 200 * (attempt + 1));
      };
      clients[subscriber % socketCount]!.subscribe<{ allocationUpdated: { id: string; state: string } }>(
        { query, variables: { p: projectId } },
        {
          next: (result) => {
            const at = performance.now();
            const allocation = result.data?.allocationUpdated;
            if (!allocation) {
              retry(JSON.stringify(result.errors));
              return;
            }
            if (allocation.id === anchor.id && !established[subscriber]) {
              established[subscriber] = 1;
              establishedCount++;
            }
            deliveries.record(subscriber, { allocationId: allocation.id, state: allocation.state }, at);
          },
          error: (error) => retry(String((error as { reason?: string }).reason ?? error)),
          complete: () => undefined,
        },
      );
    };
    for (let subscriber = 0; subscriber < subscriptionCount; subscriber++) start(subscriber, 0);
    const establishDeadline = performance.now() + 120_000;
    while (establishedCount < subscriptionCount && failures.length === 0 && performance.now() < establishDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (establishedCount < subscriptionCount) throw new TargetNotReady(`only ${establishedCount}/${subscriptionCount} subscriptions established: ${failures.join('; ')}`);
    const establishSeconds = (performance.now() - subscribeStarted) / 1000;
    process.stderr.write(`${subscriptionCount} subscriptions established in ${establishSeconds.toFixed(1)} s (${connectionRetries} connection retries, ${subscribeRetries} subscription retries)\n`);
    // A fixed quiet interval, not a wait for a condition: the RSS reading should follow the burst's garbage, not include it.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rssSubscribed = gateway.rssBytes();

    const changes: Array<{ round: number; change: string; mutationMs: number; received: number; first: number; p50: number; p95: number; p99: number; max: number; cpuSeconds: Record<string, number> }> = [];
    let rssPeak = rssSubscribed;
    const cpuOf = () => ({ loader: (process.cpuUsage().user + process.cpuUsage().system) / 1e6, ...Object.fromEntries(processes.map((p) => [p.role, p.cpuSeconds()])) });
    const measure = async (round: number, label: string, change: () => Promise<Change>) => {
      const before = cpuOf();
      const sentAt = performance.now();
      const made = await change();
      const mutationMs = performance.now() - sentAt;
      const seenAt = await deliveries.all(made, DELIVERY_DEADLINE_MS);
      const latencies = [...seenAt].filter((value) => !Number.isNaN(value)).map((value) => value - sentAt).sort((a, b) => a - b);
      rssPeak = Math.max(rssPeak, gateway.rssBytes());
      const after = cpuOf();
      changes.push({
        round,
        change: label,
        mutationMs,
        received: latencies.length,
        first: latencies[0] ?? Number.NaN,
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        p99: percentile(latencies, 0.99),
        max: latencies.at(-1) ?? Number.NaN,
        cpuSeconds: Object.fromEntries(Object.entries(after).map(([role, seconds]) => [role, seconds - (before[role as keyof typeof before] ?? 0)])),
      });
      // Let the processes settle (GC, sockets) so one change's tail does not start the next one's clock.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    };
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`round ${round}/${rounds}\n`);
      const created = await (async () => {
        let id = '';
        await measure(round, 'create (REQUESTED)', async () => {
          id = (await createAllocation()).id;
          return { allocationId: id, state: 'REQUESTED' };
        });
        return id;
      })();
      await measure(round, 'release (RELEASING)', async () => {
        await releaseAllocation(created);
        return { allocationId: created, state: 'RELEASING' };
      });
    }
    for (const client of clients.splice(0)) await Promise.resolve(client.dispose()).catch(() => undefined);
    // Likewise: give the gateway time to drop the closed sockets before reading what it keeps.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rssAfterClose = gateway.rssBytes();

    const allDelivered = changes.every((change) => change.received === subscriptionCount);
    const worstP99 = Math.max(...changes.map((change) => change.p99));
    const report = {
      date: new Date().toISOString(),
      machine: {
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        memoryGib: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()}`,
        loadAverageBefore: loadBefore,
        loadAverageAfter: os.loadavg().map((value) => Number(value.toFixed(2))),
      },
      node: process.version,
      nodeEnv: args['node-env'],
      method: { subscriptions: subscriptionCount, sockets: socketCount, rounds, selection, deliveryDeadlineMs: DELIVERY_DEADLINE_MS },
      establishSeconds,
      connectionRetries,
      subscribeRetries,
      gatewayRssMib: { idle: mib(rssIdle), subscribed: mib(rssSubscribed), peakDuringChanges: mib(rssPeak), afterClose: mib(rssAfterClose) },
      changes,
      goal: { p99BelowMs: 1000, worstP99Ms: worstP99, allDelivered, met: allDelivered && worstP99 < 1000 },
      failures,
    };
    if (args.out) await writeFile(args.out, `${JSON.stringify(report, null, 2)}\n`);
    const f = (value: number) => value.toFixed(1);
    const roles = ['loader', ...processes.map((p) => p.role)];
    process.stdout.write(
      [
        `${report.date} · ${report.machine.cpu} × ${report.machine.cores} · ${report.machine.memoryGib} GiB · ${report.machine.os} · Node ${report.node} · NODE_ENV=${report.nodeEnv}`,
        `load average (1/5/15 min) before ${loadBefore.join(' / ')}, after ${report.machine.loadAverageAfter.join(' / ')}`,
        `${subscriptionCount} subscriptions over ${socketCount} sockets to one gateway, established in ${establishSeconds.toFixed(1)} s (${connectionRetries} connection retries, ${subscribeRetries} subscription retries); selection { ${selection} }`,
        `gateway RSS: idle ${report.gatewayRssMib.idle} MiB, ${subscriptionCount} subscribed ${report.gatewayRssMib.subscribed} MiB, peak during changes ${report.gatewayRssMib.peakDuringChanges} MiB, after the clients left ${report.gatewayRssMib.afterClose} MiB`,
        '',
        `| round | change | mutation ms | received | first ms | p50 ms | p95 ms | p99 ms | max ms | CPU s: ${roles.join(' / ')} |`,
        '|---|---|---|---|---|---|---|---|---|---|',
        ...changes.map(
          (c) =>
            `| ${c.round} | ${c.change} | ${f(c.mutationMs)} | ${c.received}/${subscriptionCount} | ${f(c.first)} | ${f(c.p50)} | ${f(c.p95)} | ${f(c.p99)} | ${f(c.max)} | ${roles.map((role) => (c.cpuSeconds[role] ?? Number.NaN).toFixed(2)).join(' / ')} |`,
        ),
        '',
        `delivery is measured from sending the mutation to each subscriber's message arriving in the loader`,
        `goal p99 < 1000 ms for every change, all delivered: ${report.goal.met ? 'met' : 'NOT met'} (worst p99 ${f(worstP99)} ms)`,
        ...failures.map((failure) => `failure: ${failure}`),
        '',
      ].join('\n'),
    );
    return 0;
  } catch (error) {
    if (!(error instanceof TargetNotReady)) throw error;
    process.stderr.write(`The fan-out cannot be measured yet: ${error.message}\n`);
    return 2;
  } finally {
    // A client whose socket was refused may reject on dispose; the figures are already out.
    for (const client of clients) await Promise.resolve(client.dispose()).catch(() => undefined);
    for (const service of processes.reverse()) await service.stop();
    await db.end();
    await redis.cleanup();
    await database.drop();
  }
}

process.exitCode = await main();

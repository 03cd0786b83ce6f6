/**
 * Benchmark: node-task pickup through the agents' long-poll. Starts ONE rest-adapter process (serving
 * /internal/v1 from the compute domain) over a fresh database, registers `--agents` nodes and runs one simulated
 * agent per node in this process: a plain keep-alive HTTP client that long-polls `GET /internal/v1/nodes/{id}/tasks/wait`
 * in a loop, as the real agent does. Then
 *   idle     the adapter's CPU and RSS while every poll is held and nothing happens;
 *   pickup   tasks queued at `--rate` per second to distinct nodes (queueNodeTask + COMMIT + wakeNode, as the
 *            provisioning worker does) and the time from COMMIT to the agent holding the task: p50/p90/p99/max.
 *
 *   npx tsx bench/task-pickup.ts [--agents 1000] [--tasks 1000] [--rate 100] [--idle 10] [--ramp 5] [--out results.json]
 *
 * The agents and the task producer share this process, so the figures include their own event-loop delay.
 */
import http from 'node:http';
import os from 'node:os';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { resolvePolicies } from '@gpuaas/config';
import { uuidv7, withTransaction } from '@gpuaas/db';
import { connectNats } from '@gpuaas/events';
import type { ComputeDeps } from '@gpuaas/subgraph-compute/deps';
import { createNode, queueNodeTask, registerNode, wakeNode } from '@gpuaas/subgraph-compute/nodes';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, createTestRedis, testNamespace } from '@gpuaas/testkit';
import { percentile } from './support/fixed-rate-load.js';
import { startServiceProcess } from './support/processes.js';

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    tasks: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '100' },
    idle: { type: 'string', default: '10' },
    // Agents start spread over this many seconds, as a fleet does, not in one instant.
    ramp: { type: 'string', default: '5' },
    out: { type: 'string' },
  },
});
const agentCount = Number(args.agents);
const taskCount = Number(args.tasks);
const rate = Number(args.rate);
const idleMs = Number(args.idle) * 1000;
const rampMs = Number(args.ramp) * 1000;
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
/** Long enough that no poll times out during the idle window (the adapter jitters holds down to 80%). */
const WAIT_SECONDS = 30;

interface SimulatedNode {
  readonly id: string;
  readonly credential: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runInBatches<T>(count: number, parallel: number, make: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await make(index);
      }
    }),
  );
  return results;
}

/** One agent: a keep-alive connection of its own that long-polls until stopped, reporting each task's arrival. */
function startAgent(baseUrl: string, node: SimulatedNode, onTask: (taskId: string, at: number) => void, onPollSent: () => void) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(`/internal/v1/nodes/${node.id}/tasks/wait?wait_seconds=${WAIT_SECONDS}`, baseUrl);
  let stopped = false;
  let errors = 0;
  let failedInARow = 0;
  const fail = () => {
    errors += 1;
    failedInARow += 1;
  };
  const poll = () =>
    new Promise<void>((resolve) => {
      const request = http.get(url, { agent, headers: { authorization: `Bearer ${node.credential}` } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode === 200) onTask((JSON.parse(Buffer.concat(chunks).toString()) as { task_id: string }).task_id, performance.now());
          if (response.statusCode === 200 || response.statusCode === 204) failedInARow = 0;
          else fail();
          resolve();
        });
      });
      request.on('error', () => {
        fail();
        resolve();
      });
      onPollSent();
    });
  // The real agent's backoff after a failed poll: exponential from 500 ms with full jitter, at most 30 s.
  const backoffMs = () => {
    const ceiling = Math.min(30_000, 500 * 2 ** (failedInARow - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  };
  const loop = (async () => {
    await sleep(Math.random() * rampMs);
    while (!stopped) {
      await poll();
      if (failedInARow > 0 && !stopped) await sleep(backoffMs());
    }
  })();
  return {
    errors: () => errors,
    async stop() {
      stopped = true;
      agent.destroy();
      await loop;
    },
  };
}

async function main(): Promise<number> {
  const database = await createTestDatabase();
  const redis = await createTestRedis();
  const natsNamespace = testNamespace();
  const pool = new pg.Pool({ connectionString: database.url, max: 16 });
  const nats = await connectNats(NATS_URL, 'bench-task-pickup');
  const policies = resolvePolicies({});
  const deps = { pool, nats, redis, logger: createLogger('bench-task-pickup', 'warn'), config: { natsNamespace, policies } } as unknown as ComputeDeps;
  const loadBefore = os.loadavg().map((value) => Number(value.toFixed(2)));
  let rest: Awaited<ReturnType<typeof startServiceProcess>> | undefined;
  const agents: Array<ReturnType<typeof startAgent>> = [];
  try {
    const regionId = uuidv7();
    await pool.query(`INSERT INTO compute.regions (id, code, name) VALUES ($1, 'bench-1', 'Bench')`, [regionId]);
    const seedStart = performance.now();
    const admin = { userId: uuidv7(), correlationId: 'bench' };
    const nodes = await runInBatches(agentCount, 8, async (index): Promise<SimulatedNode> => {
      const hostname = `bench-node-${index}`;
      const created = await createNode(deps, admin, { hostname, region: 'bench-1' });
      const registration = await registerNode(deps, created.bootstrapToken, { hostname, agentVersion: 'bench', driver: 'simulated', gpus: [] }, 'bench');
      return { id: registration.nodeId, credential: registration.nodeCredential };
    });
    // Registration queues a discovery per node; the bench measures its own tasks only.
    await pool.query(`UPDATE compute.node_tasks SET state = 'cancelled', completed_at = now(), updated_at = now() WHERE state = 'queued'`);
    console.error(`seeded ${agentCount} registered nodes in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    rest = await startServiceProcess('rest', {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      NATS_URL,
      NATS_NAMESPACE: natsNamespace,
      // Only /internal/v1 is measured: no gateway behind the adapter, so not its default embedded engine.
      GATEWAY_MODE: 'remote',
    });
    const baseUrl = rest.urls['rest']!;
    await sleep(1000);
    const rssBeforeAgents = rest.rssBytes();

    const queuedAt = new Map<string, number>();
    const latencies: number[] = [];
    let pollsSent = 0;
    const onTask = (taskId: string, at: number) => {
      const start = queuedAt.get(taskId);
      if (start !== undefined) latencies.push(at - start);
    };
    for (const node of nodes) agents.push(startAgent(baseUrl, node, onTask, () => (pollsSent += 1)));
    // Every agent has sent its first poll once pollsSent reaches the count; give the adapter a moment to park them.
    while (pollsSent < agentCount) await sleep(50);
    await sleep(3000);
    const errorsBeforeIdle = agents.reduce((sum, agent) => sum + agent.errors(), 0);

    const cpuIdleStart = rest.cpuSeconds();
    await sleep(idleMs);
    const idleCpuSeconds = rest.cpuSeconds() - cpuIdleStart;
    const rssIdle = rest.rssBytes();
    console.error(`idle: ${((idleCpuSeconds / (idleMs / 1000)) * 100).toFixed(2)} % of a core, RSS ${(rssIdle / 2 ** 20).toFixed(0)} MiB`);

    const cpuPickupStart = rest.cpuSeconds();
    const selfCpuStart = process.cpuUsage();
    const pickupStart = performance.now();
    const intervalMs = 1000 / rate;
    await runInBatches(taskCount, Math.max(1, Math.ceil(rate / 20)), async (index) => {
      // Paced: task i is due at i / rate seconds after the start.
      const due = pickupStart + index * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const node = nodes[index % nodes.length]!;
      const queued = await withTransaction(pool, (client) => queueNodeTask(client, { nodeId: node.id, kind: 'configure_slices', payload: { bench: index } }));
      queuedAt.set(queued.id, performance.now());
      wakeNode(deps, node.id);
    });
    const deadline = performance.now() + 15_000;
    while (latencies.length < taskCount && performance.now() < deadline) await sleep(50);
    const pickupSeconds = (performance.now() - pickupStart) / 1000;
    const pickupCpuSeconds = rest.cpuSeconds() - cpuPickupStart;
    const selfCpu = process.cpuUsage(selfCpuStart);
    const sorted = [...latencies].sort((a, b) => a - b);
    const result = {
      machine: {
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        memoryGib: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()}`,
        node: process.version,
        date: new Date().toISOString(),
        loadAverageBefore: loadBefore,
        loadAverageAfter: os.loadavg().map((value) => Number(value.toFixed(2))),
      },
      agents: agentCount,
      idle: {
        seconds: idleMs / 1000,
        cpuPercentOfOneCore: Number(((idleCpuSeconds / (idleMs / 1000)) * 100).toFixed(2)),
        rssMiBBeforeAgents: Number((rssBeforeAgents / 2 ** 20).toFixed(1)),
        rssMiBWithPollsHeld: Number((rssIdle / 2 ** 20).toFixed(1)),
      },
      pickup: {
        tasks: taskCount,
        ratePerSecond: rate,
        delivered: latencies.length,
        p50Ms: Number(percentile(sorted, 0.5).toFixed(2)),
        p90Ms: Number(percentile(sorted, 0.9).toFixed(2)),
        p99Ms: Number(percentile(sorted, 0.99).toFixed(2)),
        maxMs: Number((sorted.at(-1) ?? Number.NaN).toFixed(2)),
        cpuPercentOfOneCore: Number(((pickupCpuSeconds / pickupSeconds) * 100).toFixed(1)),
        // The agents and the producer (this process) share the machine with the adapter.
        benchProcessCpuPercentOfOneCore: Number((((selfCpu.user + selfCpu.system) / 1e6 / pickupSeconds) * 100).toFixed(1)),
      },
      agentErrorsWhileConnecting: errorsBeforeIdle,
      agentErrorsAfterwards: agents.reduce((sum, agent) => sum + agent.errors(), 0) - errorsBeforeIdle,
    };
    console.log(JSON.stringify(result, null, 2));
    if (args.out) await writeFile(args.out, JSON.stringify(result, null, 2));
    return latencies.length === taskCount ? 0 : 1;
  } finally {
    await Promise.all(agents.map((agent) => agent.stop()));
    await rest?.stop();
    await nats.drain().catch(() => nats.close());
    await pool.end();
    await redis.cleanup();
    await database.drop();
  }
}

process.exitCode = await main();

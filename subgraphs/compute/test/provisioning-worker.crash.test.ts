import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { withTransaction } from '@gpuaas/db';
import { connectNats, createEnvelope, jetstream, jetstreamManager, publishEvent, streamNameFor, subjects, type NatsConnection } from '@gpuaas/events';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, startPrivateNats, testNamespace, type PrivateNats, type TestDatabase } from '@gpuaas/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAllocation } from '../src/allocations/create.js';
import { releaseAllocation } from '../src/allocations/lifecycle.js';
import { applyTaskOutcome } from '../src/allocations/task-outcomes.js';
import { createCommand, seedCapacity, seedMember, type Member } from './support/allocation-world.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ALLOCATIONS = 60;

let db: TestDatabase;
let pool: pg.Pool;
let nats: PrivateNats;
let nc: NatsConnection;
const namespace = testNamespace();
const logger = createLogger('provisioning-crash-test', 'silent');

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  nats = await startPrivateNats();
  nc = await connectNats(nats.url, 'provisioning-crash-test');
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
  await pool?.end();
  await db?.drop();
});

/** The workers deployable as its own process (outbox relay + provisioning worker), as production runs it. */
function startWorkers(): ChildProcess {
  // node itself with tsx's loader, not the tsx CLI: the CLI runs node as a child of its own, which the SIGKILL below
  // would leave running (orphaned, still consuming and burning CPU after the test).
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/src/main.ts'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: '0',
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: namespace,
      WORKER_ROLES: 'outbox-relay,provisioning-worker',
      OUTBOX_BATCH_SIZE: '5',
      OUTBOX_POLL_INTERVAL_MS: '20',
      CONSUMER_ACK_WAIT_MS: '1500',
      CONSUMER_MAX_DELIVER: '5',
    },
  });
  child.stderr?.resume();
  return child;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function countByState(): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM compute.allocations GROUP BY state');
  return Object.fromEntries(rows.map((row) => [row.state, row.n]));
}

/** Stands in for the node agents: completes a few queued tasks per tick through the real outcome path. */
function simulateAgents(): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await pool.query<{ id: string; node_id: string; kind: string; allocation_id: string; payload: Record<string, unknown> }>(
        `SELECT id, node_id, kind, allocation_id, payload FROM compute.node_tasks WHERE state = 'queued' ORDER BY created_at, id LIMIT 3`,
      );
      for (const task of rows) {
        await withTransaction(pool, async (client) => {
          await client.query(`UPDATE compute.node_tasks SET state = 'succeeded', result = '{}'::jsonb, completed_at = now() WHERE id = $1`, [task.id]);
          await applyTaskOutcome(client, { logger }, { id: task.id, nodeId: task.node_id, kind: task.kind, allocationId: task.allocation_id, payload: task.payload }, { status: 'succeeded', result: {} });
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

it('brings every allocation to its final state exactly once across a SIGKILLed provisioning worker', { timeout: 120_000 }, async () => {
  const capacity = await seedCapacity(pool, ALLOCATIONS);
  const members: Member[] = await Promise.all(Array.from({ length: 10 }, () => seedMember(pool)));
  const deps = { pool, config: { policies: { max_live_allocations_per_user: 100, min_runway_for_new_allocation_seconds: 0 } } };
  const ids: string[] = [];
  for (let index = 0; index < ALLOCATIONS; index++) {
    const member = members[index % members.length]!;
    ids.push((await createAllocation(deps, member.actor, createCommand(capacity, member))).id);
  }
  const agents = simulateAgents();
  try {
    let workers = startWorkers();
    // Kill it in the middle of the batch: some allocations handled, some not yet.
    const atKill = await waitFor('the worker to start on the batch', async () => {
      const counts = await countByState();
      return ALLOCATIONS - (counts['requested'] ?? 0) >= 8 ? counts : undefined;
    });
    await stopChild(workers, 'SIGKILL');
    expect(atKill['requested'] ?? 0).toBeGreaterThan(0);

    workers = startWorkers();
    try {
      await waitFor('every allocation active', async () => ((await countByState())['active'] === ALLOCATIONS ? true : undefined));
      for (const [index, id] of ids.entries()) await releaseAllocation({ pool }, members[index % members.length]!.actor, id);
      await waitFor('every allocation released', async () => ((await countByState())['released'] === ALLOCATIONS ? true : undefined));
    } finally {
      await stopChild(workers, 'SIGTERM');
    }
  } finally {
    await agents.stop();
  }

  const transitions = await pool.query<{ path: string }>(
    `SELECT string_agg(coalesce(from_state, '-') || '>' || to_state, ' ' ORDER BY at, id) AS path FROM compute.allocation_transitions GROUP BY allocation_id`,
  );
  expect(transitions.rows).toHaveLength(ALLOCATIONS);
  expect(new Set(transitions.rows.map((row) => row.path))).toEqual(new Set(['->requested requested>provisioning provisioning>active active>releasing releasing>released']));
  const tasks = await pool.query<{ kinds: string }>(`SELECT string_agg(kind, ',' ORDER BY created_at) AS kinds FROM compute.node_tasks GROUP BY allocation_id`);
  expect(new Set(tasks.rows.map((row) => row.kinds))).toEqual(new Set(['provision,release']));
  const events = await pool.query<{ subject: string; n: number }>(`SELECT subject, count(*)::int AS n FROM infra.outbox GROUP BY subject ORDER BY subject`);
  expect(events.rows).toEqual(
    ['provisioning.active', 'provisioning.releasing.completed', 'provisioning.releasing.requested', 'provisioning.requested'].map((subject) => ({ subject, n: ALLOCATIONS })),
  );
  const jsm = await jetstreamManager(nc);
  const dlq = await jsm.streams.info(streamNameFor(namespace, 'DLQ'));
  expect(dlq.state.messages).toBe(0);
});

it('dead-letters a provisioning event that names no allocation, at once, and keeps consuming', { timeout: 60_000 }, async () => {
  const jsm = await jetstreamManager(nc);
  const dlqStream = streamNameFor(namespace, 'DLQ');
  const before = (await jsm.streams.info(dlqStream)).state.messages;
  const workers = startWorkers();
  try {
    const poison = createEnvelope(subjects.provisioningRequested, { allocation_id: 'not-a-uuid' } as never, { correlationId: 'poison-test' });
    await publishEvent(jetstream(nc), poison, { namespace });
    await waitFor('the poison message in the DLQ', async () => ((await jsm.streams.info(dlqStream)).state.messages > before ? true : undefined), 20_000);
    const letter = await jsm.streams.getMessage(dlqStream, { last_by_subj: `${namespace}.dlq.provisioning.requested` });
    expect(letter!.json<{ payload: { original_envelope: { event_id: string }; last_error: { code: string } } }>().payload).toMatchObject({
      original_envelope: { event_id: poison.event_id },
      last_error: { code: 'validation_error' },
    });
  } finally {
    await stopChild(workers, 'SIGTERM');
  }
});

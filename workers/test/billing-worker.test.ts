import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { withTransaction } from '@gpuaas/db';
import { connectNats, createEnvelope, deleteStreams, initStreams, jetstream, jetstreamManager, publishEvent, type NatsConnection } from '@gpuaas/events';
import { postLedgerEntries } from '@gpuaas/subgraph-billing';
import { createTestDatabase, testNamespace, type TestDatabase } from '@gpuaas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ALLOCATIONS = 40;

let db: TestDatabase;
let pool: pg.Pool;
let nc: NatsConnection;
const namespace = testNamespace();

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  nc = await connectNats(NATS_URL, 'billing-worker-test');
  await initStreams(await jetstreamManager(nc), { namespace });
});

afterAll(async () => {
  await deleteStreams(await jetstreamManager(nc), { namespace }).catch(() => undefined);
  await nc?.close();
  await pool?.end();
  await db?.drop();
});

function startWorkerProcess(): ChildProcess {
  // node itself with tsx's loader (not the tsx CLI, which runs node as a child that a SIGKILL would orphan).
  return spawn(process.execPath, ['--import', 'tsx', 'workers/src/main.ts'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      NATS_URL,
      NATS_NAMESPACE: namespace,
      WORKER_ROLES: 'billing-worker',
      PORT: '0',
      LOG_LEVEL: 'warn',
      POLICY_METERING_TICK_SECONDS: '1',
      CONSUMER_ACK_WAIT_MS: '2000',
    },
  });
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const count = async (sql: string, values: unknown[] = []) => Number((await pool.query<{ n: string }>(sql, values)).rows[0]!.n);

describe('billing-worker process', () => {
  it('charges the same totals when killed mid-tick and restarted as an uninterrupted run would', async () => {
    const userId = randomUUID();
    await withTransaction(pool, (client) =>
      postLedgerEntries(client, { idempotencyKey: randomUUID(), kind: 'admin_credit', userId, amountMinor: 1_000_000_000n, currency: 'USD', description: 'seed', actorUserId: userId }),
    );
    const js = jetstream(nc);
    const activeAt = new Date(Date.now() - 600_000);
    const allocations = Array.from({ length: ALLOCATIONS }, (_, index) => ({
      allocation_id: randomUUID(),
      project_id: randomUUID(),
      user_id: userId,
      profile_id: randomUUID(),
      region: 'eu-west-1',
      node_id: randomUUID(),
      slot_id: null,
      hourly_price: { amount_minor: 997 + index * 131, currency: 'USD' },
      requested_at: activeAt.toISOString(),
      active_at: new Date(activeAt.getTime() + index * 1_337).toISOString(),
    }));

    let worker = startWorkerProcess();
    try {
      for (const allocation of allocations) await publishEvent(js, createEnvelope('provisioning.active', allocation), { namespace });
      await until('every meter started and settled once', async () => (await count('SELECT count(DISTINCT meter_id) AS n FROM billing.meter_periods')) === ALLOCATIONS);

      // Hold one meter so the next tick blocks inside its settlement statement, then kill the worker there.
      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM billing.meters WHERE allocation_id = $1 FOR UPDATE', [allocations[0]!.allocation_id]);
        const blocked = "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%WITH due AS%'";
        await until('a tick blocked mid-settlement', async () => (await count(blocked)) === 1);
        worker.kill('SIGKILL');
        await exited(worker);
        expect(worker.signalCode).toBe('SIGKILL');
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }

      worker = startWorkerProcess();
      const releasedAt = new Date();
      for (const allocation of allocations) {
        await publishEvent(js, createEnvelope('provisioning.releasing.completed', { ...allocation, released_at: releasedAt.toISOString(), reason_code: 'user_release' }), { namespace });
      }
      const expected = new Map(
        allocations.map((allocation) => {
          const seconds = Math.floor((releasedAt.getTime() - Date.parse(allocation.active_at)) / 1000);
          return [allocation.allocation_id, (BigInt(allocation.hourly_price.amount_minor) * BigInt(seconds)) / 3600n];
        }),
      );
      const total = [...expected.values()].reduce((sum, amount) => sum + amount, 0n);
      await until('every allocation settled to its release', async () => {
        const { rows } = await pool.query<{ sum: string | null }>("SELECT sum(-amount_minor) AS sum FROM billing.ledger_entries WHERE allocation_id IS NOT NULL AND account = 'wallet'");
        return BigInt(rows[0]!.sum ?? 0) === total && (await count('SELECT count(*) AS n FROM billing.meters WHERE last_settled_until < stopped_at OR stopped_at IS NULL')) === 0;
      });

      const { rows } = await pool.query<{ allocation_id: string; charged: string }>(
        // Net of the credit for time ticks settled past the release.
        "SELECT allocation_id, sum(-amount_minor) AS charged FROM billing.ledger_entries WHERE allocation_id IS NOT NULL AND account = 'wallet' GROUP BY allocation_id",
      );
      expect(new Map(rows.map((row) => [row.allocation_id, BigInt(row.charged)]))).toEqual(expected);
      // No period was booked twice, and the periods tile each meter's span without gaps.
      expect(await count('SELECT count(*) AS n FROM (SELECT meter_period_id FROM billing.ledger_entries WHERE meter_period_id IS NOT NULL GROUP BY meter_period_id, account HAVING count(*) > 1) d')).toBe(0);
      expect(
        await count(`SELECT count(*) AS n FROM billing.meters m
          WHERE (SELECT sum(p.seconds) FROM billing.meter_periods p WHERE p.meter_id = m.id) <> extract(epoch FROM m.last_settled_until - m.started_at)`),
      ).toBe(0);
    } finally {
      worker.kill('SIGTERM');
      await exited(worker);
    }
  }, 90_000);
});

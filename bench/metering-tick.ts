/**
 * Benchmark: one metering tick (settle every running meter + low-balance policy, one transaction) over N live
 * allocations, each on its own wallet with some ledger history. Seeds a fresh database per size, runs a warm-up
 * tick, then `--ticks` ticks one tick-length apart and reports each tick's wall time (including COMMIT) and the
 * CPU time the Postgres backend spent on it (read from /proc, so Postgres must run on this machine): on a busy
 * machine the wall time mostly measures the queue for a core, the CPU time what the tick itself costs.
 *
 *   npx tsx bench/metering-tick.ts [--sizes 1000,10000,50000] [--ticks 5] [--out results.json]
 */
import os from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { resolvePolicies } from '@gpuaas/config';
import { runMeteringTick } from '@gpuaas/subgraph-billing';
import { createTestDatabase } from '@gpuaas/testkit';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000' },
    ticks: { type: 'string', default: '5' },
    out: { type: 'string' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const ticks = Number(args.ticks);
const policies = resolvePolicies({});
const TICK_MS = policies.metering_tick_seconds * 1000;

async function seed(pool: pg.Pool, allocations: number, startedAt: Date): Promise<void> {
  await pool.query(
    `INSERT INTO billing.wallets (id, owner_kind, owner_id, currency)
     SELECT billing.uuid_v7(), 'user', gen_random_uuid(), 'USD' FROM generate_series(1, $1)`,
    [allocations],
  );
  // A generous credit each (two legs per posting, one statement), so no wallet crosses a threshold mid-run.
  await pool.query(
    `INSERT INTO billing.ledger_entries (id, transaction_id, wallet_id, kind, account, amount_minor, currency, actor_id, description, idempotency_key)
     SELECT billing.uuid_v7(), t.tx, w.id, 'admin_credit', leg.account, leg.sign * 100000000, 'USD', w.owner_id, 'seed', 'seed:' || w.id
     FROM (SELECT id, owner_id, gen_random_uuid() AS tx FROM billing.wallets) w
     CROSS JOIN LATERAL (SELECT w.tx) t
     CROSS JOIN (VALUES ('wallet', 1), ('credit_grants', -1)) AS leg (account, sign)`,
  );
  await pool.query(
    `INSERT INTO billing.meters (id, allocation_id, wallet_id, hourly_amount_minor, currency, started_at, last_settled_until, user_id, profile_id)
     SELECT billing.uuid_v7(), gen_random_uuid(), w.id, 100 + (random() * 900)::int, 'USD', $1, $1, w.owner_id, gen_random_uuid()
     FROM billing.wallets w`,
    [startedAt.toISOString()],
  );
  await pool.query('ANALYZE');
}

/** utime + stime of a local process, in milliseconds (clock ticks are 10 ms on Linux). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measure(size: number) {
  const database = await createTestDatabase();
  // One connection, so every tick runs on the same backend whose CPU time is read.
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  try {
    let now = new Date(Date.now() - (ticks + 2) * TICK_MS);
    const seedStarted = performance.now();
    await seed(pool, size, now);
    const seedMs = performance.now() - seedStarted;
    now = new Date(now.getTime() + TICK_MS);
    const backend = Number((await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    await runMeteringTick(pool, policies, now); // warm-up: caches, plans
    const timings: number[] = [];
    const cpu: number[] = [];
    for (let index = 0; index < ticks; index += 1) {
      now = new Date(now.getTime() + TICK_MS);
      const cpuBefore = await cpuMs(backend);
      const started = performance.now();
      const result = await runMeteringTick(pool, policies, now);
      timings.push(performance.now() - started);
      cpu.push((await cpuMs(backend)) - cpuBefore);
      if (result.debits !== size) throw new Error(`tick settled ${result.debits} of ${size} meters`);
    }
    return {
      size,
      seedMs: Math.round(seedMs),
      tickMs: timings.map((ms) => Math.round(ms)),
      medianMs: Math.round(median(timings)),
      maxMs: Math.round(Math.max(...timings)),
      backendCpuMs: cpu,
      medianBackendCpuMs: median(cpu),
      loadAverage: os.loadavg()[0]!,
    };
  } finally {
    await pool.end();
    await database.drop();
  }
}

const results = [];
for (const size of sizes) {
  const result = await measure(size);
  results.push(result);
  console.log(
    `${String(size).padStart(6)} allocations: wall median ${result.medianMs} ms, max ${result.maxMs} ms (${result.tickMs.join(', ')}); ` +
      `postgres CPU median ${result.medianBackendCpuMs} ms (${result.backendCpuMs.join(', ')}); load ${result.loadAverage.toFixed(1)}`,
  );
}
const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
console.log(JSON.stringify(machine));
if (args.out) await writeFile(args.out, JSON.stringify({ machine, results }, null, 2));

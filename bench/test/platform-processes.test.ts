import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@gpuaas/testkit';
import { postgresBackendCpu, postgresCpuBetween } from '../support/platform-processes.js';

describe('postgresCpuBetween', () => {
  it('adds what each backend used between the readings and counts a backend that appeared in between whole', () => {
    const before = new Map([[101, 2.5], [102, 1]]);
    const after = new Map([[101, 3], [102, 1], [103, 0.25]]);
    expect(postgresCpuBetween(before, after)).toBeCloseTo(0.75, 6);
  });

  it('counts nothing for a backend that ended between the readings', () => {
    expect(postgresCpuBetween(new Map([[101, 5]]), new Map())).toBe(0);
  });
});

describe('postgresBackendCpu', () => {
  let measured: TestDatabase;
  let other: TestDatabase;
  let pool: pg.Pool;
  let otherPool: pg.Pool;

  beforeAll(async () => {
    [measured, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    pool = new pg.Pool({ connectionString: measured.url, max: 2 });
    otherPool = new pg.Pool({ connectionString: other.url, max: 1 });
  });

  afterAll(async () => {
    await Promise.all([pool?.end(), otherPool?.end()]);
    await Promise.all([measured?.drop(), other?.drop()]);
  });

  it("reads the CPU the database's backend spent on a query, and only that database's backends", async () => {
    const worker = await pool.connect();
    const otherClient = await otherPool.connect();
    try {
      const { rows } = await worker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const pid = rows[0]!.pid;
      const { rows: otherRows } = await otherClient.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const before = await postgresBackendCpu(pool);
      expect(before.has(pid)).toBe(true);
      expect(before.has(otherRows[0]!.pid)).toBe(false);

      // Enough work for several clock ticks of backend CPU, whatever else the machine is doing.
      await worker.query('SELECT sum(i) FROM generate_series(1, 3000000) AS i');
      const after = await postgresBackendCpu(pool);
      expect(after.get(pid)! - before.get(pid)!).toBeGreaterThan(0.05);
      expect(postgresCpuBetween(before, after)).toBeGreaterThanOrEqual(after.get(pid)! - before.get(pid)!);
    } finally {
      worker.release();
      otherClient.release();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@gpuaas/testkit';
import { processOnce } from '../src/index.js';

describe('processOnce', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const eventId = () => crypto.randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  async function inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>, outcome: 'commit' | 'rollback' = 'commit'): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query(outcome === 'commit' ? 'COMMIT' : 'ROLLBACK');
      return result;
    } finally {
      client.release();
    }
  }

  it('runs the work the first time a consumer sees an event and skips it on redelivery', async () => {
    const id = eventId();
    let runs = 0;
    const first = await inTransaction((c) => processOnce(c, 'billing-worker', id, async () => ++runs));
    const again = await inTransaction((c) => processOnce(c, 'billing-worker', id, async () => ++runs));
    expect(first).toEqual({ duplicate: false, result: 1 });
    expect(again).toEqual({ duplicate: true });
    expect(runs).toBe(1);
  });

  it('keeps consumers apart: another consumer still handles the same event', async () => {
    const id = eventId();
    await inTransaction((c) => processOnce(c, 'billing-worker', id, async () => undefined));
    const other = await inTransaction((c) => processOnce(c, 'notification-relay', id, async () => 'sent'));
    expect(other).toEqual({ duplicate: false, result: 'sent' });
  });

  it('forgets an event whose transaction rolled back, so the redelivery does the work', async () => {
    const id = eventId();
    await inTransaction((c) => processOnce(c, 'provisioning-worker', id, async () => undefined), 'rollback');
    const retried = await inTransaction((c) => processOnce(c, 'provisioning-worker', id, async () => 'done'));
    expect(retried).toEqual({ duplicate: false, result: 'done' });
  });

  it('lets only one of two concurrent deliveries do the work', async () => {
    const id = eventId();
    let runs = 0;
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      const a = await processOnce(first, 'provisioning-worker', id, async () => ++runs);
      // The second insert waits on the first transaction's row lock; once that commits, it conflicts and skips.
      const racing = processOnce(second, 'provisioning-worker', id, async () => ++runs);
      await first.query('COMMIT');
      const b = await racing;
      await second.query('COMMIT');
      expect(a).toEqual({ duplicate: false, result: 1 });
      expect(b).toEqual({ duplicate: true });
      expect(runs).toBe(1);
    } finally {
      first.release();
      second.release();
    }
  });
});

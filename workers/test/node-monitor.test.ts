import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '@gpuaas/db';
import { connectNats, deleteStreams, jetstreamManager } from '@gpuaas/events';
import { createTestDatabase, testNamespace, type TestDatabase } from '@gpuaas/testkit';
import { createWorkers, loadWorkersConfig, type Workers } from '../src/index.js';
import { judgesSilence, nodeMonitorIntervalMs } from '../src/roles/node-monitor.js';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

let db: TestDatabase;
let pool: pg.Pool;
let workers: Workers;
const namespace = testNamespace();

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  workers = await createWorkers(
    loadWorkersConfig({
      DATABASE_URL: db.url,
      NATS_URL,
      NATS_NAMESPACE: namespace,
      PORT: '0',
      LOG_LEVEL: 'silent',
      WORKER_ROLES: 'node-monitor',
      POLICY_NODE_HEARTBEAT_TIMEOUT_SECONDS: '1',
    }),
  );
});

afterAll(async () => {
  await workers?.close();
  await pool?.end();
  const nc = await connectNats(NATS_URL, 'node-monitor-test');
  await deleteStreams(await jetstreamManager(nc), { namespace });
  await nc.close();
  await db?.drop();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    // ci-allow canonical_error_guard: test timeout
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the node-monitor role', () => {
  it('ticks at a third of the heartbeat timeout, at most every 5 s', () => {
    const config = (seconds: number) => ({ config: loadWorkersConfig({ DATABASE_URL: db.url, POLICY_NODE_HEARTBEAT_TIMEOUT_SECONDS: String(seconds) }) });
    expect(nodeMonitorIntervalMs(config(3))).toBe(1000);
    expect(nodeMonitorIntervalMs(config(90))).toBe(5000);
  });

  it('judges silence only once a whole heartbeat timeout has passed since it started (agents could not reach a control plane that was down)', () => {
    const startedAt = 1_000_000;
    expect(judgesSilence(startedAt, startedAt, 90)).toBe(false);
    expect(judgesSilence(startedAt + 89_999, startedAt, 90)).toBe(false);
    expect(judgesSilence(startedAt + 90_000, startedAt, 90)).toBe(true);
  });

  it('takes a node that stopped sending heartbeats offline and cordons a drained node, on its own', async () => {
    const regionId = uuidv7();
    await pool.query(`INSERT INTO compute.regions (id, code, name) VALUES ($1, 'eu-monitor-1', 'Monitor region')`, [regionId]);
    const [silent, healthy, drained] = [uuidv7(), uuidv7(), uuidv7()];
    const insertNode = (id: string, hostname: string, state: string, heartbeatAgo: string) =>
      pool.query(
        `INSERT INTO compute.nodes (id, hostname, region_id, state, last_heartbeat_at) VALUES ($1, $2, $3, $4, now() - $5::interval)`,
        [id, hostname, regionId, state, heartbeatAgo],
      );
    await insertNode(silent, 'gpu-silent', 'active', '1 minute');
    await insertNode(healthy, 'gpu-healthy', 'active', '0 seconds');
    await insertNode(drained, 'gpu-drained', 'draining', '0 seconds');
    const stateOf = async (id: string) => (await pool.query<{ state: string }>('SELECT state FROM compute.nodes WHERE id = $1', [id])).rows[0]!.state;
    // The healthy and the drained node keep heartbeating, as their agents would; the silent one does not.
    let beating = true;
    const heartbeats = (async () => {
      while (beating) {
        await pool.query('UPDATE compute.nodes SET last_heartbeat_at = now() WHERE id = ANY($1::uuid[])', [[healthy, drained]]);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    try {
      await until('the drained node cordoned', async () => ((await stateOf(drained)) === 'cordoned' ? true : undefined));
      // Silence is judged only a heartbeat timeout after the monitor started; then the silent node goes offline.
      await until('the silent node offline', async () => ((await stateOf(silent)) === 'offline' ? true : undefined));
      expect(await stateOf(healthy)).toBe('active');
      expect(await stateOf(drained)).toBe('cordoned');
    } finally {
      beating = false;
      await heartbeats;
    }
  });
});

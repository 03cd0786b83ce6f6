import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, testNamespace } from '@gpuaas/testkit';
import { connectNats, deleteStreams, jetstreamManager } from '@gpuaas/events';
import { createWorkers, loadWorkersConfig } from '../src/index.js';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** A GET without keep-alive, so the test's own client leaves no socket behind. */
function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** Open sockets and timers by kind; what close() must give back. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** Closed sockets leave the handle list a few event-loop turns after their close resolved; wait for that, briefly. */
async function settledHandles(expected: Record<string, number>): Promise<Record<string, number>> {
  const deadline = Date.now() + 1000;
  let current = handles();
  const same = (a: Record<string, number>) => Object.keys({ ...a, ...expected }).every((kind) => a[kind] === expected[kind]);
  while (!same(current) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    current = handles();
  }
  return current;
}

describe('workers lifecycle', () => {
  it('closes every connection, listener and timer it opened', async () => {
    const db = await createTestDatabase();
    const namespace = testNamespace();
    try {
      const before = handles();
      const workers = await createWorkers(loadWorkersConfig({ DATABASE_URL: db.url, NATS_URL, NATS_NAMESPACE: namespace, PORT: '0', LOG_LEVEL: 'silent' }));
      expect(await status(`${workers.url}/readyz`)).toBe(200);
      expect(handles()['TCPSocketWrap'] ?? 0).toBeGreaterThan(before['TCPSocketWrap'] ?? 0);

      await workers.close();
      expect(workers.http.server.listening).toBe(false);
      expect(await settledHandles(before)).toEqual(before);
    } finally {
      const nc = await connectNats(NATS_URL, 'workers-lifecycle-test');
      await deleteStreams(await jetstreamManager(nc), { namespace });
      await nc.close();
      await db.drop();
    }
  });

  it('fails to start, leaving nothing open, when NATS is unreachable', async () => {
    const db = await createTestDatabase();
    try {
      const before = handles();
      await expect(
        createWorkers(loadWorkersConfig({ DATABASE_URL: db.url, NATS_URL: 'nats://127.0.0.1:1', PORT: '0', LOG_LEVEL: 'silent' })),
      ).rejects.toThrow();
      expect(await settledHandles(before)).toEqual(before);
    } finally {
      await db.drop();
    }
  });
});

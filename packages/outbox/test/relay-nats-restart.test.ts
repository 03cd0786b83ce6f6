import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateNats, type PrivateNats } from '@gpuaas/testkit';
import { createOutboxRelay, type OutboxRelay } from '../src/index.js';
import { eventually, openBus, openDb, silentLogger, storedEvents, unpublishedCount, writeEvents, type Bus, type Db } from './support/harness.js';

describe('outbox relay across a NATS restart', () => {
  let nats: PrivateNats;
  let bus: Bus;
  let db: Db;
  let relay: OutboxRelay | undefined;

  beforeAll(async () => {
    [nats, db] = await Promise.all([startPrivateNats(), openDb()]);
    bus = await openBus(nats.url);
  });
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
    await db.pool.query('DELETE FROM infra.outbox');
    await bus.jsm.streams.purge(`${bus.namespace}_PROVISIONING`);
  });
  afterAll(async () => {
    await bus.close();
    await nats.stop();
    await db.close();
  });

  async function startRelay(): Promise<OutboxRelay> {
    relay = await createOutboxRelay({ pool: db.pool, js: bus.js, namespace: bus.namespace, logger: silentLogger, publishTimeoutMs: 300, maxBackoffMs: 200, pollIntervalMs: 200 });
    return relay;
  }

  it('holds events while NATS is down and publishes every one, once, when it is back', async () => {
    await startRelay();
    const before = await writeEvents(db.pool, 20);
    await eventually('the first events', () => unpublishedCount(db.pool), (n) => n === 0);

    await nats.kill();
    const during = (await Promise.all(Array.from({ length: 5 }, () => writeEvents(db.pool, 6)))).flat();
    await eventually(
      'a failed publish attempt during the outage',
      async () => (await db.pool.query('SELECT count(*)::int AS n FROM infra.outbox WHERE last_error IS NOT NULL')).rows[0].n,
      (n) => n > 0,
    );
    expect(await unpublishedCount(db.pool)).toBeGreaterThan(0);

    await nats.start();
    const after = await writeEvents(db.pool, 10);
    await eventually('every row published', () => unpublishedCount(db.pool), (n) => n === 0, 30_000);

    const stored = await storedEvents(bus);
    const expected = [...before, ...during, ...after].map((e) => e.event_id);
    expect(stored).toHaveLength(expected.length);
    expect(new Set(stored.map((e) => e.eventId))).toEqual(new Set(expected));
  });

  it('loses and duplicates nothing when NATS restarts in the middle of a run', async () => {
    await startRelay();
    const written: string[] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) written.push(...(await writeEvents(db.pool, 5)).map((e) => e.event_id));
    })();
    await eventually('some events published', () => written.length, (n) => n >= 100);
    await nats.restart();
    const atRestart = written.length;
    await eventually('more events written after the restart', () => written.length, (n) => n >= atRestart + 100);
    writing = false;
    await writer;

    await eventually('every row published', () => unpublishedCount(db.pool), (n) => n === 0, 30_000);
    const stored = await storedEvents(bus);
    expect(stored).toHaveLength(written.length);
    expect(new Set(stored.map((e) => e.eventId))).toEqual(new Set(written));
  });
});

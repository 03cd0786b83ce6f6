import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { testNamespace } from '@gpuaas/testkit';
import { createEnvelope, subjects } from '@gpuaas/events';
import { createOutboxRelay, writeOutbox, type OutboxRelay } from '../src/index.js';
import { eventually, openBus, openDb, recordingJetStream, silentLogger, storedEvents, unpublishedCount, writeEvents, type Bus, type Db } from './support/harness.js';

describe('outbox relay', () => {
  let bus: Bus;
  let db: Db;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    [bus, db] = await Promise.all([openBus(), openDb()]);
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.close()));
    await db.pool.query('DELETE FROM infra.outbox');
    await bus.jsm.streams.purge(`${bus.namespace}_PROVISIONING`);
  });
  afterAll(async () => {
    await bus.close();
    await db.close();
  });

  async function relay(options: Partial<Parameters<typeof createOutboxRelay>[0]> = {}): Promise<OutboxRelay> {
    const started = await createOutboxRelay({ pool: db.pool, js: bus.js, namespace: bus.namespace, logger: silentLogger, ...options });
    relays.push(started);
    return started;
  }

  it('publishes committed rows once, with Nats-Msg-Id = event_id, and marks them published', async () => {
    await relay();
    const written = await writeEvents(db.pool, 3);
    const stored = await eventually('three stored events', () => storedEvents(bus), (s) => s.length === 3);
    expect(stored).toEqual(written.map((e) => ({ eventId: e.event_id, msgId: e.event_id })));
    const { rows } = await db.pool.query('SELECT event_id, published_at, publish_attempts, last_error FROM infra.outbox ORDER BY created_at, event_id');
    for (const row of rows) expect(row).toMatchObject({ published_at: expect.any(Date), publish_attempts: 1, last_error: null });
  });

  it('never publishes rows of a transaction that rolled back', async () => {
    await relay();
    const rolledBack = await writeEvents(db.pool, 2, 'rollback');
    const committed = await writeEvents(db.pool, 1);
    const stored = await eventually('the committed event', () => storedEvents(bus), (s) => s.some((e) => e.eventId === committed[0]!.event_id));
    expect(stored.map((e) => e.eventId)).not.toContain(rolledBack[0]!.event_id);
    expect(stored.map((e) => e.eventId)).not.toContain(rolledBack[1]!.event_id);
    expect(stored).toHaveLength(1);
  });

  it('is woken by NOTIFY at commit, without waiting for its poll interval', async () => {
    await relay({ pollIntervalMs: 60_000 });
    // Let the relay go idle first, so only the notification can wake it.
    await eventually('an idle relay', () => unpublishedCount(db.pool), (n) => n === 0);
    const [event] = await writeEvents(db.pool, 1);
    await eventually('the event', () => storedEvents(bus), (s) => s.some((e) => e.eventId === event!.event_id), 5_000);
  });

  it('still publishes by polling when notifications are lost', async () => {
    await db.pool.query('ALTER TABLE infra.outbox DISABLE TRIGGER outbox_notify');
    try {
      await relay({ pollIntervalMs: 100 });
      const written = await writeEvents(db.pool, 2);
      const stored = await eventually('both events', () => storedEvents(bus), (s) => s.length === 2);
      expect(stored.map((e) => e.eventId)).toEqual(written.map((e) => e.event_id));
    } finally {
      await db.pool.query('ALTER TABLE infra.outbox ENABLE TRIGGER outbox_notify');
    }
  });

  it('publishes each event exactly once when two relays race on one table', async () => {
    const a = recordingJetStream(bus.js);
    const b = recordingJetStream(bus.js);
    await relay({ js: a.js, batchSize: 7 });
    await relay({ js: b.js, batchSize: 7 });
    const written = (await Promise.all(Array.from({ length: 30 }, () => writeEvents(db.pool, 10)))).flat();

    await eventually('every row published', () => unpublishedCount(db.pool), (n) => n === 0);
    const stored = await storedEvents(bus);
    expect(stored).toHaveLength(300);
    expect(new Set(stored.map((e) => e.eventId))).toEqual(new Set(written.map((e) => e.event_id)));
    const acks = [...a.acks, ...b.acks];
    expect(acks).toHaveLength(300);
    expect(acks.filter((x) => x.ack.duplicate)).toEqual([]);
    expect(a.acks.length).toBeGreaterThan(0);
    expect(b.acks.length).toBeGreaterThan(0);
  });

  it('records a row that cannot be published and keeps publishing the rows behind it', async () => {
    await relay({ pollIntervalMs: 100 });
    // Larger than the server's max_payload (1 MiB): refused for this message only, not a NATS outage.
    const poison = createEnvelope(subjects.provisioningRequested, { blob: 'x'.repeat(2 * 1024 * 1024) });
    await writeOutbox(db.pool, poison);
    const [after] = await writeEvents(db.pool, 1);
    await eventually('the row behind the poison one', () => storedEvents(bus), (s) => s.some((e) => e.eventId === after!.event_id));
    const { rows } = await db.pool.query('SELECT published_at, publish_attempts, last_error FROM infra.outbox WHERE event_id = $1', [poison.event_id]);
    expect(rows[0].published_at).toBeNull();
    expect(rows[0].publish_attempts).toBeGreaterThanOrEqual(1);
    expect(rows[0].last_error).toMatch(/payload/i);
    await db.pool.query('DELETE FROM infra.outbox WHERE event_id = $1', [poison.event_id]);
  });

  it('reports the age of the oldest unpublished row while it cannot publish, as a metric too', async () => {
    const registry = new Registry();
    // A namespace without streams: every publish finds no responders, as when JetStream is down.
    const started = await relay({ registry, namespace: testNamespace(), publishTimeoutMs: 200, maxBackoffMs: 100 });
    expect(await started.lagSeconds()).toBe(0);
    const stuck = createEnvelope(subjects.provisioningRequested, {});
    await db.pool.query("INSERT INTO infra.outbox (event_id, subject, envelope, correlation_id, created_at) VALUES ($1, $2, $3, $4, now() - interval '90 seconds')", [
      stuck.event_id,
      stuck.event_type,
      JSON.stringify(stuck),
      stuck.correlation_id,
    ]);
    await eventually('a failed attempt', async () => (await db.pool.query('SELECT publish_attempts FROM infra.outbox WHERE event_id = $1', [stuck.event_id])).rows[0].publish_attempts, (n) => n >= 1);
    expect(await started.lagSeconds()).toBeGreaterThanOrEqual(90);
    const gauge = (await registry.metrics()).match(/^outbox_oldest_unpublished_age_seconds (\S+)$/m);
    expect(Number(gauge?.[1])).toBeGreaterThanOrEqual(90);
    expect(await registry.metrics()).toMatch(/^outbox_publish_failures_total [1-9]/m);
  });
});

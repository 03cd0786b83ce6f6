import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { testNamespace } from '@gpuaas/testkit';
import { createEnvelope, subjects } from '@gpuaas/events';
import { createOutboxRelay, writeOutbox, type OutboxRelay } from '../src/index.js';
import { eventually, openBus, openDb, recordingJetStream, silentLogger, slowAckJetStream, stalledJetStream, storedEvents, unpublishedCount, writeEvents, type Bus, type Db } from './support/harness.js';

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

  it('claims a batch in one statement and marks it in one more, with no transaction around them', async () => {
    const statements: string[] = [];
    const counting = new Proxy(db.pool, {
      get(target, property, receiver) {
        if (property !== 'query') return Reflect.get(target, property, receiver);
        return (config: string | { text: string }, ...rest: unknown[]) => {
          statements.push(typeof config === 'string' ? config : config.text);
          return (target.query as (...args: unknown[]) => unknown)(config, ...rest);
        };
      },
    });
    const started = await relay({ pool: counting, pollIntervalMs: 60_000 });
    await writeEvents(db.pool, 3);
    await eventually('every row published', () => unpublishedCount(db.pool), (n) => n === 0);
    await started.close();

    const kinds = statements.map((text) => (text.startsWith('WITH candidates') ? 'claim' : text.startsWith('UPDATE infra.outbox') ? 'mark' : text));
    expect(kinds.filter((kind) => kind !== 'claim')).toEqual(['mark']);
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
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM infra.outbox WHERE publish_attempts <> 1 OR claimed_until IS NOT NULL');
    expect(rows[0].n).toBe(0);
  });

  it('claims and sends the next batch while the previous one still awaits its acks, keeping their order', async () => {
    const slow = slowAckJetStream(bus.js);
    await relay({ js: slow.js, pollIntervalMs: 60_000 });
    const first = await writeEvents(db.pool, 2);
    await eventually('the first batch sent', () => storedEvents(bus), (s) => s.length === 2);
    const second = await writeEvents(db.pool, 2);
    const stored = await eventually('the second batch sent before the first was acknowledged', () => storedEvents(bus), (s) => s.length === 4);
    expect(await unpublishedCount(db.pool)).toBe(4);
    expect(stored.map((e) => e.eventId)).toEqual([...first, ...second].map((e) => e.event_id));
    slow.open();
    await eventually('every row marked', () => unpublishedCount(db.pool), (n) => n === 0);
  });

  it('leaves a row alone while another relay holds a live lease on it, and publishes it once the lease lapses', async () => {
    const [leased] = await writeEvents(db.pool, 1);
    await db.pool.query("UPDATE infra.outbox SET claimed_until = now() + interval '1 hour' WHERE event_id = $1", [leased!.event_id]);
    await relay({ pollIntervalMs: 100 });
    const [other] = await writeEvents(db.pool, 1);
    await eventually('the unleased row', () => storedEvents(bus), (s) => s.some((e) => e.eventId === other!.event_id));
    const held = await db.pool.query('SELECT published_at IS NULL AS unpublished, claimed_until > now() AS live FROM infra.outbox WHERE event_id = $1', [leased!.event_id]);
    expect(held.rows[0]).toEqual({ unpublished: true, live: true });

    // Time passes for the other relay's lease.
    await db.pool.query("UPDATE infra.outbox SET claimed_until = now() - interval '1 millisecond' WHERE event_id = $1", [leased!.event_id]);
    await eventually('the leased row', () => storedEvents(bus), (s) => s.some((e) => e.eventId === leased!.event_id));
    expect(await storedEvents(bus)).toHaveLength(2);
  });

  it('publishes the rows claimed by a relay that died, exactly once, after its lease lapses', async () => {
    const dead = stalledJetStream(bus.js);
    const deadRelay = await relay({ js: dead.js, leaseMs: 300, pollIntervalMs: 60_000 });
    const written = await writeEvents(db.pool, 5);
    await eventually(
      "the dead relay's claim",
      async () => (await db.pool.query('SELECT count(*)::int AS n FROM infra.outbox WHERE claimed_until IS NOT NULL')).rows[0].n,
      (n) => n === 5,
    );

    const live = recordingJetStream(bus.js);
    await relay({ js: live.js, pollIntervalMs: 100 });
    await eventually('every row published', () => unpublishedCount(db.pool), (n) => n === 0);
    expect((await storedEvents(bus)).map((e) => e.eventId)).toEqual(written.map((e) => e.event_id));
    expect(live.acks.filter((x) => x.ack.duplicate)).toEqual([]);

    // The dead relay's late outcome must not undo the takeover: its lease no longer matches.
    dead.release();
    await deadRelay.close();
    const { rows } = await db.pool.query('SELECT published_at, publish_attempts, last_error, claimed_until FROM infra.outbox ORDER BY created_at, event_id');
    for (const row of rows) expect(row).toMatchObject({ published_at: expect.any(Date), publish_attempts: 1, last_error: null, claimed_until: null });
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

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '@gpuaas/db';
import {
  connectNats,
  createEnvelope,
  deleteStreams,
  jetstream,
  jetstreamManager,
  publishEvent,
  streamNameFor,
  subjectStream,
  type JetStreamManager,
  type NatsConnection,
  type Subject,
} from '@gpuaas/events';
import { notificationSubjects } from '@gpuaas/subgraph-platform';
import { createTestDatabase, testNamespace, type TestDatabase } from '@gpuaas/testkit';
import { notificationPayloadsFor } from '../../subgraphs/platform/test/support/notification-events.js';
import { createWorkers, loadWorkersConfig, type Workers } from '../src/index.js';
import { NOTIFICATION_RELAY_CONSUMER } from '../src/roles/notification-relay.js';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

let db: TestDatabase;
let pool: pg.Pool;
let nc: NatsConnection;
let jsm: JetStreamManager;
const namespace = testNamespace();

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  nc = await connectNats(NATS_URL, 'notification-relay-test');
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  if (jsm) await deleteStreams(jsm, { namespace }).catch(() => undefined);
  await nc?.close();
  await pool?.end();
  await db?.drop();
});

const startRelay = () =>
  createWorkers(
    loadWorkersConfig({ DATABASE_URL: db.url, NATS_URL, NATS_NAMESPACE: namespace, PORT: '0', LOG_LEVEL: 'silent', WORKER_ROLES: 'notification-relay', CONSUMER_MAX_DELIVER: '3' }),
  );

const durableOf = (subject: string) => `${NOTIFICATION_RELAY_CONSUMER}-${subject.replace(/\./g, '-')}`;
const streamOf = (subject: string) => streamNameFor(namespace, subjectStream[subject as Subject]);

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every relay consumer has been handed every message of its subject and settled it. */
const allSettled = async (): Promise<boolean> => {
  for (const subject of notificationSubjects) {
    const info = await jsm.consumers.info(streamOf(subject), durableOf(subject));
    if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
  }
  return true;
};

const kindsOf = async (userId: string) =>
  (await pool.query<{ kind: string }>('SELECT kind FROM platform.notifications WHERE user_id = $1 ORDER BY kind', [userId])).rows.map((row) => row.kind);

describe('notification-relay', () => {
  let workers: Workers | undefined;
  afterAll(async () => {
    await workers?.close();
  });

  it('records one notification per event for its recipient, and none more when every event is delivered again', async () => {
    const [alice, bob] = [uuidv7(), uuidv7()];
    workers = await startRelay();
    const js = jetstream(nc);
    const alicePayloads = notificationPayloadsFor(alice);
    for (const subject of notificationSubjects) await publishEvent(js, createEnvelope(subject, alicePayloads[subject]), { namespace });
    await publishEvent(js, createEnvelope('provisioning.lost', notificationPayloadsFor(bob)['provisioning.lost']), { namespace });

    const expected = [
      'allocation_active',
      'allocation_failed',
      'allocation_lost',
      'allocation_release_failed',
      'allocation_released',
      'auto_release_pending',
      'balance_credited',
      'balance_depleted',
      'low_balance_warning',
    ];
    await until('a notification per event', async () => (await kindsOf(alice)).length === expected.length);
    await until('the relay to settle every event', allSettled);
    expect(await kindsOf(alice)).toEqual(expected);
    expect(await kindsOf(bob)).toEqual(['allocation_lost']);

    // A redelivery of everything: fresh durables start at the first message of each subject again.
    await workers.close();
    workers = undefined;
    for (const subject of notificationSubjects) await jsm.consumers.delete(streamOf(subject), durableOf(subject));
    workers = await startRelay();
    await until('the redelivered events to settle', async () => {
      for (const subject of notificationSubjects) {
        const info = await jsm.consumers.info(streamOf(subject), durableOf(subject));
        if (info.delivered.stream_seq === 0) return false;
      }
      return allSettled();
    });
    expect(await kindsOf(alice)).toEqual(expected);
    expect(await kindsOf(bob)).toEqual(['allocation_lost']);
  });

  it('dead-letters an event whose payload names no recipient, and notifies nobody', async () => {
    workers ??= await startRelay();
    const malformed = createEnvelope('payments.balance_credited', { payment_id: uuidv7(), amount: { amount_minor: 100, currency: 'USD' } });
    const before = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM platform.notifications')).rows[0]!.n);
    await publishEvent(jetstream(nc), malformed, { namespace });
    const dlq = streamNameFor(namespace, 'DLQ');
    const parked = await until('the dead letter', async () => {
      try {
        // Answers null (or throws, by client version) until the dead letter is stored.
        return (await jsm.streams.getMessage(dlq, { last_by_subj: `${namespace}.dlq.payments.balance_credited` })) ?? undefined;
      } catch {
        return undefined;
      }
    });
    expect(JSON.stringify(parked.json())).toContain(malformed.event_id);
    await until('the relay to settle', allSettled);
    const after = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM platform.notifications')).rows[0]!.n);
    expect(after).toBe(before);
  });
});

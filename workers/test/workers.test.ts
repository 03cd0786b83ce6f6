import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, testNamespace, type TestDatabase } from '@gpuaas/testkit';
import { createLogger } from '@gpuaas/telemetry';
import {
  connectNats,
  createEnvelope,
  deleteStreams,
  jetstream,
  jetstreamManager,
  publishEvent,
  startConsumer,
  subjects,
  type EventEnvelope,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from '@gpuaas/events';
import { writeOutbox } from '@gpuaas/outbox';
import { createWorkers, loadWorkersConfig, type Workers } from '../src/index.js';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

describe('workers deployable', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let workers: Workers;
  const namespace = testNamespace();

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    nc = await connectNats(NATS_URL, 'workers-test');
    [js, jsm] = [jetstream(nc), await jetstreamManager(nc)];
    workers = await createWorkers(
      loadWorkersConfig({ DATABASE_URL: db.url, NATS_URL, NATS_NAMESPACE: namespace, PORT: '0', LOG_LEVEL: 'silent', CONSUMER_MAX_DELIVER: '3' }),
    );
  });
  afterAll(async () => {
    await workers?.close();
    await deleteStreams(jsm, { namespace });
    await nc.close();
    await pool.end();
    await db.drop();
  });

  it('is live and ready once started, with database, NATS and roles checked', async () => {
    expect((await fetch(`${workers.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${workers.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: { status: 'ok' }, nats: { status: 'ok' }, roles: { status: 'ok' } } });
  });

  it('relays an event written to the outbox to a JetStream subscriber', async () => {
    // This file's namespace: nothing else is published to its PROVISIONING stream.
    const consumer = await js.consumers.get(`${namespace}_PROVISIONING`);
    const envelope = createEnvelope(subjects.provisioningRequested, { allocation_id: 'a-1' }, { correlationId: 'corr-outbox' });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await writeOutbox(client, envelope);
      await client.query('COMMIT');
    } finally {
      client.release();
    }

    const message = await consumer.next({ expires: 10_000 });
    expect(message?.json<EventEnvelope>()).toEqual(envelope);
    expect(message?.headers?.get('Nats-Msg-Id')).toBe(envelope.event_id);
  });

  it('sends a poison message to the DLQ after maxDeliver deliveries, where the dlq-handler counts it', async () => {
    let deliveries = 0;
    // Stands in for a domain worker: every delivery of this event fails.
    const failing = await startConsumer({
      js,
      jsm,
      namespace,
      stream: 'BILLING',
      durable: 'always-fails',
      maxDeliver: 3,
      retryDelayMs: () => 10,
      logger: createLogger('workers-test', 'silent'),
      handler: async () => {
        deliveries += 1;
        throw new Error('cannot apply');
      },
    });
    try {
      const poison = createEnvelope(subjects.billingBalanceDepleted, { user_id: 'u-1' }, { correlationId: 'corr-poison' });
      await publishEvent(js, poison, { namespace });

      const metric = 'dead_letters_total{original_subject="billing.balance_depleted",consumer="always-fails",code="handler_error",service="workers"} 1';
      const deadline = Date.now() + 15_000;
      let text = '';
      while (!text.includes(metric) && Date.now() < deadline) {
        text = await (await fetch(`${workers.url}/metrics`)).text();
        if (!text.includes(metric)) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(text).toContain(metric);
      expect(deliveries).toBe(3);

      const dlq = await jsm.streams.getMessage(`${namespace}_DLQ`, { last_by_subj: `${namespace}.dlq.billing.balance_depleted` });
      expect(dlq?.json<EventEnvelope>()).toMatchObject({
        event_type: 'dlq.billing.balance_depleted',
        correlation_id: 'corr-poison',
        payload: { original_envelope: poison, deliveries: 3, consumer: 'always-fails', last_error: { code: 'handler_error', message: 'Error: cannot apply' } },
      });
      const handled = await jsm.consumers.info(`${namespace}_DLQ`, 'dlq-handler');
      expect(handled.num_ack_pending + handled.num_pending).toBe(0);
    } finally {
      await failing.stop();
    }
  });
});

import Stripe from 'stripe';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7, withTransaction } from '@gpuaas/db';
import { connectNats, deleteStreams, jetstreamManager, type EventEnvelope, type NatsConnection } from '@gpuaas/events';
import { receiveStripeWebhook } from '@gpuaas/subgraph-billing/payments';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, testNamespace, type TestDatabase } from '@gpuaas/testkit';
import { createWorkers, loadWorkersConfig, type Workers } from '../src/index.js';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const SECRET = 'whsec_worker_test';

describe('webhook-worker', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let nc: NatsConnection;
  let workers: Workers;
  const namespace = testNamespace();

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    nc = await connectNats(NATS_URL, 'webhook-worker-test');
    workers = await createWorkers(
      loadWorkersConfig({ DATABASE_URL: db.url, NATS_URL, NATS_NAMESPACE: namespace, PORT: '0', LOG_LEVEL: 'silent', WORKER_ROLES: 'outbox-relay,webhook-worker', OUTBOX_POLL_INTERVAL_MS: '50' }),
    );
  });
  afterAll(async () => {
    await workers?.close();
    if (nc) await deleteStreams(await jetstreamManager(nc), { namespace });
    await nc?.close();
    await pool?.end();
    await db?.drop();
  });

  async function openSession(): Promise<{ id: string; stripeSessionId: string }> {
    const id = uuidv7();
    const userId = uuidv7();
    const stripeSessionId = `cs_test_${id.replaceAll('-', '')}`;
    await withTransaction(pool, async (client) => {
      const walletId = uuidv7();
      await client.query(`INSERT INTO billing.wallets (id, owner_kind, owner_id, currency) VALUES ($1, 'user', $2, 'USD')`, [walletId, userId]);
      await client.query(
        `INSERT INTO billing.checkout_sessions (id, user_id, wallet_id, stripe_session_id, amount_minor, currency, url, expires_at)
         VALUES ($1, $2, $3, $4, 2500, 'USD', 'https://checkout.stripe.test/x', now() + interval '1 day')`,
        [id, userId, walletId, stripeSessionId],
      );
    });
    return { id, stripeSessionId };
  }

  async function creditsFor(paymentId: string): Promise<EventEnvelope[]> {
    const { rows } = await pool.query<{ envelope: EventEnvelope }>(
      `SELECT envelope FROM infra.outbox WHERE subject = 'payments.balance_credited' AND envelope -> 'payload' ->> 'payment_id' = $1`,
      [paymentId],
    );
    return rows.map((row) => row.envelope);
  }

  it('turns a stored checkout.session.completed into one payments.balance_credited', async () => {
    const session = await openSession();
    const event = {
      id: `evt_${session.id.replaceAll('-', '')}`,
      object: 'event',
      type: 'checkout.session.completed',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: { object: { id: session.stripeSessionId, object: 'checkout.session', amount_total: 2500, currency: 'usd', payment_status: 'paid', payment_intent: 'pi_worker_test' } },
    };
    const body = JSON.stringify(event);
    const deps = { pool, logger: createLogger('webhook-worker-test', 'silent'), config: { stripe: { webhookSecret: SECRET } } };
    const signature = new Stripe('sk_test_signer').webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
    await receiveStripeWebhook(deps, { rawBody: Buffer.from(body), signatureHeader: signature, correlationId: 'corr-worker' });
    await receiveStripeWebhook(deps, { rawBody: Buffer.from(body), signatureHeader: signature, correlationId: 'corr-worker' });

    const deadline = Date.now() + 15_000;
    let credits: EventEnvelope[] = [];
    while (Date.now() < deadline) {
      credits = await creditsFor(session.id);
      if (credits.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(credits).toHaveLength(1);
    expect(credits[0]).toMatchObject({ correlation_id: 'corr-worker', payload: { payment_id: session.id, stripe_event_id: event.id, amount: { amount_minor: 2500, currency: 'USD' } } });
    const { rows } = await pool.query('SELECT processed_at, processing_error FROM billing.stripe_events WHERE stripe_event_id = $1', [event.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].processed_at).not.toBeNull();
    expect(rows[0].processing_error).toBeNull();
  }, 30_000);
});

import Stripe from 'stripe';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, createTestRedis, testNamespace, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import { createLogger } from '@gpuaas/telemetry';
import { defaultRestAdapterConfig } from '../../src/config.js';
import { createRestAdapter, type RestAdapter } from '../../src/server.js';
import { assertResponseMatchesContract } from '../../src/testing/contract-validator.js';

const SECRET = 'whsec_adapter_webhook_test';
const signer = new Stripe('sk_test_signer');

let database: TestDatabase;
let pool: pg.Pool;
let redis: TestRedis;
let adapter: RestAdapter;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  redis = await createTestRedis();
  adapter = await createRestAdapter(
    defaultRestAdapterConfig({
      port: 0,
      databaseUrl: database.url,
      natsNamespace: testNamespace(),
      redisKeyPrefix: redis.keyPrefix,
      stripe: { webhookSecret: SECRET, webhookToleranceSeconds: 300 },
    }),
    { redis, logger: createLogger('stripe-webhook-test', 'silent') },
  );
});

afterAll(async () => {
  await adapter?.close();
  await redis?.cleanup();
  await pool?.end();
  await database?.drop();
});

function stripeEvent(type = 'checkout.session.completed') {
  const id = `evt_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  return { id, object: 'event', type, api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: { id: `cs_test_${id.slice(4)}`, object: 'checkout.session', amount_total: 2500, currency: 'usd', payment_status: 'paid' } } };
}

async function post(body: string, signature: string | undefined) {
  const response = await fetch(`${adapter.url}/api/v1/payments/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'stripe-signature': signature }) },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
}

async function stored(stripeEventId: string) {
  const events = await pool.query('SELECT id FROM billing.stripe_events WHERE stripe_event_id = $1', [stripeEventId]);
  const outbox = await pool.query(`SELECT event_id FROM infra.outbox WHERE subject = 'payments.stripe_event_received' AND envelope -> 'payload' ->> 'stripe_event_id' = $1`, [stripeEventId]);
  return { events: events.rowCount, outbox: outbox.rowCount };
}

describe('POST /api/v1/payments/webhook', () => {
  it('acknowledges a signed event, stores it with its outbox row once, and acknowledges a redelivery without storing', async () => {
    const body = JSON.stringify(stripeEvent());
    const event = JSON.parse(body) as { id: string };
    const first = await post(body, signer.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }));
    expect(first).toEqual({ status: 200, body: { received: true } });
    assertResponseMatchesContract('receiveStripeWebhook', 200, first.body);
    expect(await post(body, signer.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }))).toEqual({ status: 200, body: { received: true } });
    expect(await stored(event.id)).toEqual({ events: 1, outbox: 1 });
  });

  it('acknowledges event types the platform ignores', async () => {
    const body = JSON.stringify(stripeEvent('customer.created'));
    expect((await post(body, signer.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }))).status).toBe(200);
  });

  it('rejects a body changed by one byte, a stale or future timestamp, a wrong secret and a missing header, storing nothing', async () => {
    const body = JSON.stringify(stripeEvent());
    const event = JSON.parse(body) as { id: string };
    const now = Math.floor(Date.now() / 1000);
    const tampered = body.replace('"amount_total":2500', '"amount_total":2501');
    const attempts: Array<[string, string | undefined]> = [
      [tampered, signer.webhooks.generateTestHeaderString({ payload: body, secret: SECRET })],
      [body, signer.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: now - 600 })],
      [body, signer.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: now + 600 })],
      [body, signer.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_someone_else' })],
      [body, undefined],
    ];
    for (const [payload, signature] of attempts) {
      const answer = await post(payload, signature);
      expect(answer.status).toBe(400);
      expect(answer.body['code']).toBe('webhook_signature_invalid');
      assertResponseMatchesContract('receiveStripeWebhook', 400, answer.body);
    }
    expect(await stored(event.id)).toEqual({ events: 0, outbox: 0 });
  });

  it('stores 1,000 deliveries of one event, 50 in parallel, exactly once', async () => {
    const body = JSON.stringify(stripeEvent());
    const event = JSON.parse(body) as { id: string };
    const signature = signer.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
    const statuses: number[] = [];
    for (let batch = 0; batch < 20; batch++) {
      statuses.push(...(await Promise.all(Array.from({ length: 50 }, async () => (await post(body, signature)).status))));
    }
    expect(statuses).toHaveLength(1000);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(await stored(event.id)).toEqual({ events: 1, outbox: 1 });
  }, 120_000);
});

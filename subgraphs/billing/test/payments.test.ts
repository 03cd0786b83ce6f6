import { AppError } from '@gpuaas/errors';
import { subjects, type EventEnvelope } from '@gpuaas/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCheckoutSession } from '../src/payments/checkout-sessions.js';
import { createCheckoutSession } from '../src/payments/create-checkout.js';
import { handleStripeEventReceived } from '../src/payments/stripe-events.js';
import { receiveStripeWebhook } from '../src/payments/webhook-receive.js';
import { outboxOf, seedProject, seedUser, startPaymentsWorld, type PaymentsWorld } from './support/payments-world.js';

let w: PaymentsWorld;

beforeAll(async () => {
  w = await startPaymentsWorld();
});

afterAll(async () => {
  await w?.close();
});

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const topUp = (amountMinor = '2500', extra: Record<string, unknown> = {}) => ({ amountMinor, currency: 'USD', projectId: null, successUrl: null, cancelUrl: null, ...extra });

function deliver(body: string, signature = w.sign(body)) {
  return receiveStripeWebhook(w.deps, { rawBody: Buffer.from(body, 'utf8'), signatureHeader: signature, correlationId: 'corr-webhook' });
}

async function receivedEnvelopeOf(stripeEventId: string): Promise<EventEnvelope> {
  const envelopes = (await outboxOf(w.pool, subjects.paymentsStripeEventReceived)).filter((envelope) => (envelope.payload as { stripe_event_id: string }).stripe_event_id === stripeEventId);
  expect(envelopes).toHaveLength(1);
  return envelopes[0]!;
}

async function creditsFor(paymentId: string): Promise<EventEnvelope[]> {
  return (await outboxOf(w.pool, subjects.paymentsBalanceCredited)).filter((envelope) => (envelope.payload as { payment_id: string }).payment_id === paymentId);
}

async function storedEvents(stripeEventId: string) {
  const { rows } = await w.pool.query('SELECT stripe_event_id, type, processed_at FROM billing.stripe_events WHERE stripe_event_id = $1', [stripeEventId]);
  return rows;
}

describe('createCheckoutSession', () => {
  it('opens a Stripe checkout for the caller with one customer per user and answers its payment page', async () => {
    const payer = await seedUser(w.pool);
    const first = await createCheckoutSession(w.deps, payer, topUp('2500'));
    expect(first).toMatchObject({ userId: payer.userId, status: 'open', amountMinor: '2500', currency: 'USD', refundableMinor: '0', projectId: null });
    expect(first.url).toContain(`${w.stripeApi.url}/c/pay/`);
    const stripeSession = w.stripeApi.sessions.get(first.stripeSessionId)!;
    expect(stripeSession).toMatchObject({ amount_total: 2500, currency: 'usd', client_reference_id: first.id, mode: 'payment' });
    const sessionCall = w.stripeApi.requests.find((request) => request.path === '/v1/checkout/sessions' && request.params['client_reference_id'] === first.id)!;
    expect(sessionCall.idempotencyKey).toBe(`checkout-session-${first.id}`);

    const second = await createCheckoutSession(w.deps, payer, topUp('900'));
    expect(w.stripeApi.sessions.get(second.stripeSessionId)!['customer']).toBe(stripeSession['customer']);
    const customerCalls = w.stripeApi.requests.filter((request) => request.path === '/v1/customers' && (request.params['metadata'] as Record<string, string>)['user_id'] === payer.userId);
    expect(customerCalls).toHaveLength(1);
  });

  it('refuses amounts outside the policy limits, another currency and return URLs off the allow-list', async () => {
    const payer = await seedUser(w.pool);
    expect((await refusal(createCheckoutSession(w.deps, payer, topUp('499')))).code).toBe('unprocessable');
    expect((await refusal(createCheckoutSession(w.deps, payer, topUp('1000001')))).code).toBe('unprocessable');
    expect((await refusal(createCheckoutSession(w.deps, payer, topUp('2500', { currency: 'EUR' })))).code).toBe('unprocessable');
    expect((await refusal(createCheckoutSession(w.deps, payer, topUp('2500', { successUrl: 'https://evil.example/steal' })))).code).toBe('unprocessable');
    const { rows } = await w.pool.query('SELECT count(*)::int AS n FROM billing.checkout_sessions WHERE user_id = $1', [payer.userId]);
    expect(rows[0].n).toBe(0);
  });

  it("tops up a project's wallet for its owner only; a viewer is forbidden and a stranger sees no project", async () => {
    const owner = await seedUser(w.pool);
    const viewer = await seedUser(w.pool);
    const stranger = await seedUser(w.pool);
    const projectId = await seedProject(w.pool, owner, [{ actor: viewer, role: 'viewer' }]);
    const session = await createCheckoutSession(w.deps, owner, topUp('2500', { projectId }));
    expect(session.projectId).toBe(projectId);
    expect((await refusal(createCheckoutSession(w.deps, viewer, topUp('2500', { projectId })))).code).toBe('forbidden');
    expect((await refusal(createCheckoutSession(w.deps, stranger, topUp('2500', { projectId })))).code).toBe('not_found');
  });

  it('answers 502 upstream_error and stores nothing when Stripe refuses', async () => {
    const payer = await seedUser(w.pool);
    const broken = { ...w.deps, config: { ...w.deps.config, stripe: { ...w.deps.config.stripe, secretKey: 'rk_wrong' } } };
    expect((await refusal(createCheckoutSession(broken, payer, topUp('2500')))).code).toBe('upstream_error');
    const { rows } = await w.pool.query('SELECT count(*)::int AS n FROM billing.checkout_sessions WHERE user_id = $1', [payer.userId]);
    expect(rows[0].n).toBe(0);
  });
});

describe('the Stripe webhook', () => {
  it('records a verified completion once and the worker turns it into one payments.balance_credited', async () => {
    const payer = await seedUser(w.pool);
    const session = await createCheckoutSession(w.deps, payer, topUp('2500'));
    const event = w.stripeApi.completeSession(session.stripeSessionId);
    const body = JSON.stringify(event);

    expect(await deliver(body)).toEqual({ stripeEventId: event.id, type: 'checkout.session.completed', duplicate: false });
    expect(await deliver(body)).toMatchObject({ duplicate: true });
    const envelope = await receivedEnvelopeOf(event.id);
    expect(envelope.correlation_id).toBe('corr-webhook');

    expect(await handleStripeEventReceived(w.deps, envelope)).toBe('applied');
    expect(await handleStripeEventReceived(w.deps, envelope)).toBe('duplicate');

    const credits = await creditsFor(session.id);
    expect(credits).toHaveLength(1);
    expect(credits[0]!.payload).toMatchObject({
      payment_id: session.id,
      stripe_event_id: event.id,
      stripe_checkout_session_id: session.stripeSessionId,
      user_id: payer.userId,
      wallet_id: session.walletId,
      project_id: null,
      amount: { amount_minor: 2500, currency: 'USD' },
    });
    const completed = await findCheckoutSession(w.pool, 30, session.id, payer.userId);
    expect(completed).toMatchObject({ status: 'complete', refundableMinor: '2500', stripeEventId: event.id });
    expect(completed!.stripePaymentIntentId).toMatch(/^pi_/);
    expect(await findCheckoutSession(w.pool, 30, session.id, (await seedUser(w.pool)).userId)).toBeUndefined();
  });

  it('stores 1,000 deliveries of one event, 50 at a time, once and credits once', async () => {
    const payer = await seedUser(w.pool);
    const session = await createCheckoutSession(w.deps, payer, topUp('5000'));
    const event = w.stripeApi.completeSession(session.stripeSessionId);
    const body = JSON.stringify(event);
    const signature = w.sign(body);
    let fresh = 0;
    for (let batch = 0; batch < 20; batch++) {
      const receipts = await Promise.all(Array.from({ length: 50 }, () => deliver(body, signature)));
      fresh += receipts.filter((receipt) => !receipt.duplicate).length;
    }
    expect(fresh).toBe(1);
    expect(await storedEvents(event.id)).toHaveLength(1);
    const envelope = await receivedEnvelopeOf(event.id);
    // Redeliveries of the worker's message, concurrently too, apply it once.
    const results = await Promise.all(Array.from({ length: 10 }, () => handleStripeEventReceived(w.deps, envelope)));
    expect(results.filter((result) => result === 'applied')).toHaveLength(1);
    expect(await creditsFor(session.id)).toHaveLength(1);
  }, 60_000);

  it('rejects a body changed by one byte, a stale and a future timestamp, and stores nothing', async () => {
    const payer = await seedUser(w.pool);
    const session = await createCheckoutSession(w.deps, payer, topUp('2500'));
    const event = w.stripeApi.completeSession(session.stripeSessionId);
    const body = JSON.stringify(event);
    const tampered = body.replace('"amount_total":2500', '"amount_total":9500');
    expect(tampered).not.toBe(body);
    const now = Math.floor(Date.now() / 1000);
    const refusals = [
      () => deliver(tampered, w.sign(body)),
      () => deliver(body, w.sign(body, now - 301)),
      () => deliver(body, w.sign(body, now + 301)),
      () => deliver(body, 't=123,v1=deadbeef'),
      () => receiveStripeWebhook(w.deps, { rawBody: Buffer.from(body), signatureHeader: undefined, correlationId: 'c' }),
    ];
    for (const attempt of refusals) expect((await refusal(attempt())).code).toBe('webhook_signature_invalid');
    expect(await storedEvents(event.id)).toHaveLength(0);
    // The same body with a fresh signature still goes through.
    expect(await deliver(body)).toMatchObject({ duplicate: false });
  });

  it('retries a completion that overtook its session, and ignores an expiry after the completion', async () => {
    const payer = await seedUser(w.pool);
    const session = await createCheckoutSession(w.deps, payer, topUp('2500'));
    const completed = w.stripeApi.completeSession(session.stripeSessionId);
    // Simulate the webhook arriving before our own row: park the row under another Stripe id for a moment.
    await w.pool.query(`UPDATE billing.checkout_sessions SET stripe_session_id = 'cs_parked_' || id WHERE id = $1`, [session.id]);
    await deliver(JSON.stringify(completed));
    const envelope = await receivedEnvelopeOf(completed.id);
    expect(await handleStripeEventReceived(w.deps, envelope)).toBe('not_ready');
    expect((await storedEvents(completed.id))[0].processed_at).toBeNull();
    await w.pool.query(`UPDATE billing.checkout_sessions SET stripe_session_id = $2 WHERE id = $1`, [session.id, session.stripeSessionId]);
    expect(await handleStripeEventReceived(w.deps, envelope)).toBe('applied');

    const expired = { ...completed, id: `evt_expired_${session.id.slice(-8)}`, type: 'checkout.session.expired', data: { object: { ...completed.data.object, status: 'expired' } } };
    await deliver(JSON.stringify(expired));
    expect(await handleStripeEventReceived(w.deps, await receivedEnvelopeOf(expired.id))).toBe('ignored');
    expect(await findCheckoutSession(w.pool, 30, session.id)).toMatchObject({ status: 'complete' });
    expect(await creditsFor(session.id)).toHaveLength(1);
  });

  it('expires an open session', async () => {
    const payer = await seedUser(w.pool);
    const session = await createCheckoutSession(w.deps, payer, topUp('2500'));
    const expired = w.stripeApi.expireSession(session.stripeSessionId);
    await deliver(JSON.stringify(expired));
    expect(await handleStripeEventReceived(w.deps, await receivedEnvelopeOf(expired.id))).toBe('applied');
    expect(await findCheckoutSession(w.pool, 30, session.id)).toMatchObject({ status: 'expired', refundableMinor: '0' });
  });
});

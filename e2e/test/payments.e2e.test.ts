import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restCall, type RestRequest } from './support/rest-client.js';
import { startPaymentsStack, STRIPE_WEBHOOK_SECRET, type PaymentsStack } from './support/payments-stack.js';

const PASSWORD = 'correct-horse-battery-staple-42';
type Json = Record<string, any>;

let stack: PaymentsStack;
let payer: { id: string; token: string };
let adminToken: string;

const as = (token: string | undefined) => (operationId: string, method: string, path: string, request: Omit<RestRequest, 'token'> = {}) =>
  restCall(stack.restUrl, operationId, method, path, { ...request, token });

async function register(email: string): Promise<{ id: string; token: string }> {
  const answer = await restCall(stack.restUrl, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', { body: { email, password: PASSWORD, display_name: email.split('@')[0] } });
  const body = answer.json as { user: { id: string }; tokens: { access_token: string } };
  return { id: body.user.id, token: body.tokens.access_token };
}

async function login(email: string): Promise<string> {
  const answer = await restCall(stack.restUrl, 'loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email, password: PASSWORD } });
  return (answer.json as { access_token: string }).access_token;
}

/** Stripe's side of a payment: the session is paid and the signed webhook is delivered to the adapter. */
async function payAndDeliver(stripeSessionId: string, deliveries: number): Promise<void> {
  const body = JSON.stringify(stack.stripeApi.completeSession(stripeSessionId));
  const signature = new Stripe('sk_test_signer').webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET });
  for (let delivery = 0; delivery < deliveries; delivery++) {
    const response = await fetch(`${stack.restUrl}/api/v1/payments/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body });
    expect(response.status).toBe(200);
  }
}

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  stack = await startPaymentsStack();
  const tag = Date.now().toString(36);
  payer = await register(`payer-${tag}@example.test`);
  const admin = await register(`cashier-${tag}@example.test`);
  await stack.promoteToAdmin(`cashier-${tag}@example.test`);
  adminToken = await login(`cashier-${tag}@example.test`);
  void admin;
}, 120_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

describe('payments through the REST door', () => {
  it('tops up by Stripe checkout, credits once on the webhook, and refunds through an operator', async () => {
    const user = as(payer.token);
    const created = await user('createCheckoutSession', 'POST', '/api/v1/payments/checkout', { body: { amount: { amount_minor: 2500, currency: 'USD' } } });
    expect(created.status).toBe(201);
    const session = created.json as Json;
    expect(session).toMatchObject({ status: 'open', amount: { amount_minor: 2500, currency: 'USD' }, refundable_amount: { amount_minor: 0, currency: 'USD' }, project_id: null });
    expect(session['url']).toContain(stack.stripeApi.url);

    await payAndDeliver(session['stripe_session_id'], 3);
    const completed = await until(async () => {
      const answer = await user('getCheckoutSession', 'GET', `/api/v1/payments/checkout/${session['id']}`);
      return (answer.json as Json)['status'] === 'complete' ? (answer.json as Json) : undefined;
    }, 'the checkout to complete');
    expect(completed).toMatchObject({ url: null, refundable_amount: { amount_minor: 2500 } });
    await until(async () => {
      const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM billing.ledger_entries WHERE payment_id = $1 AND kind = 'topup_credit' AND account = 'wallet'`, [session['id']]);
      return rows[0].n === 1 ? true : undefined;
    }, 'the ledger credit');

    const listed = await user('listCheckoutSessions', 'GET', '/api/v1/payments/checkout?status=complete');
    expect((listed.json as Json)['data'].map((row: Json) => row['id'])).toEqual([session['id']]);
    const sessions = await as(adminToken)('adminListPaymentSessions', 'GET', `/api/v1/admin/payment-sessions?user_id=${payer.id}`);
    expect((sessions.json as Json)['data'][0]).toMatchObject({ id: session['id'], status: 'complete', amount_refunded: { amount_minor: 0 } });
    expect((sessions.json as Json)['data'][0]['stripe_event_id']).toMatch(/^evt_/);
    expect((await as(adminToken)('adminListPaymentSessions', 'GET', '/api/v1/admin/payment-sessions')).status).toBe(200);
    expect((await user('adminListPaymentSessions', 'GET', '/api/v1/admin/payment-sessions')).status).toBe(403);

    const tooMuch = await user('requestRefund', 'POST', '/api/v1/billing/refunds', { body: { amount: { amount_minor: 2501, currency: 'USD' }, reason: 'Too much' } });
    expect(tooMuch.status).toBe(422);
    const requested = await user('requestRefund', 'POST', '/api/v1/billing/refunds', { body: { amount: { amount_minor: 1000, currency: 'USD' }, reason: 'Project finished early' } });
    expect(requested.status).toBe(201);
    const refund = requested.json as Json;
    expect(refund).toMatchObject({ status: 'requested', payment_id: session['id'], amount: { amount_minor: 1000, currency: 'USD' } });
    const queue = await as(adminToken)('adminListRefunds', 'GET', '/api/v1/admin/refunds?status=requested');
    expect((queue.json as Json)['data'].map((row: Json) => row['id'])).toContain(refund['id']);

    const approved = await as(adminToken)('adminApproveRefund', 'POST', `/api/v1/admin/refunds/${refund['id']}/approve`, { body: { note: 'Verified unused credit' } });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ status: 'succeeded' });
    expect((await as(adminToken)('adminApproveRefund', 'POST', `/api/v1/admin/refunds/${refund['id']}/approve`, { body: {} })).status).toBe(409);
    const { rows: audit } = await stack.db.query(`SELECT action FROM infra.audit_logs WHERE target_id = $1`, [refund['id']]);
    expect(audit).toEqual([{ action: 'refund.approve' }]);

    const second = await user('requestRefund', 'POST', '/api/v1/billing/refunds', { body: { amount: { amount_minor: 500, currency: 'USD' }, reason: 'Changed my mind' } });
    const rejected = await as(adminToken)('adminRejectRefund', 'POST', `/api/v1/admin/refunds/${(second.json as Json)['id']}/reject`, { body: { reason: 'Credit came from a promotional grant' } });
    expect(rejected.json).toMatchObject({ status: 'rejected', rejection_reason: 'Credit came from a promotional grant' });
    const mine = await user('listRefunds', 'GET', '/api/v1/billing/refunds');
    expect((mine.json as Json)['data'].map((row: Json) => row['status'])).toEqual(['rejected', 'succeeded']);
    expect((await user('getRefund', 'GET', `/api/v1/billing/refunds/${refund['id']}`)).json).toMatchObject({ status: 'succeeded' });
  }, 60_000);
});

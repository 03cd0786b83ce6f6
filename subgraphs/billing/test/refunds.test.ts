import { AppError } from '@gpuaas/errors';
import { subjects } from '@gpuaas/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walletBalance } from '../src/ledger/post.js';
import type { Actor } from '../src/payments/actor.js';
import { findCheckoutSession, type CheckoutSessionRecord } from '../src/payments/checkout-sessions.js';
import { createCheckoutSession } from '../src/payments/create-checkout.js';
import { handleStripeEventReceived } from '../src/payments/stripe-events.js';
import { receiveStripeWebhook } from '../src/payments/webhook-receive.js';
import { approveRefund, rejectRefund } from '../src/refunds/decide.js';
import { requestRefund } from '../src/refunds/request.js';
import { bookTopUp, outboxOf, seedUser, startPaymentsWorld, type PaymentsWorld } from './support/payments-world.js';

let w: PaymentsWorld;
let admin: Actor;

beforeAll(async () => {
  w = await startPaymentsWorld();
  admin = await seedUser(w.pool, { admin: true });
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

/** A paid top-up, credited on the ledger as the billing-worker would: checkout, webhook, worker, credit. */
async function paidTopUp(payer: Actor, amountMinor: string): Promise<CheckoutSessionRecord> {
  const session = await createCheckoutSession(w.deps, payer, { amountMinor, currency: 'USD', projectId: null, successUrl: null, cancelUrl: null });
  const event = w.stripeApi.completeSession(session.stripeSessionId);
  const body = JSON.stringify(event);
  await receiveStripeWebhook(w.deps, { rawBody: Buffer.from(body), signatureHeader: w.sign(body), correlationId: 'corr-topup' });
  const received = (await outboxOf(w.pool, subjects.paymentsStripeEventReceived)).find((envelope) => (envelope.payload as { stripe_event_id: string }).stripe_event_id === event.id)!;
  expect(await handleStripeEventReceived(w.deps, received)).toBe('applied');
  const credited = (await outboxOf(w.pool, subjects.paymentsBalanceCredited)).find((envelope) => (envelope.payload as { payment_id: string }).payment_id === session.id)!;
  await bookTopUp(w.pool, credited);
  return (await findCheckoutSession(w.pool, 30, session.id))!;
}

const ask = (amountMinor: string | null, paymentId: string | null = null) => ({ amountMinor, currency: 'USD', reason: 'Project finished early', paymentId });

async function auditOf(refundId: string) {
  const { rows } = await w.pool.query(`SELECT action, actor_id, actor_kind FROM infra.audit_logs WHERE domain = 'billing' AND target_id = $1 ORDER BY id`, [refundId]);
  return rows;
}

async function refundEntries(refundId: string) {
  const { rows } = await w.pool.query(`SELECT amount_minor::text AS amount, account FROM billing.ledger_entries WHERE refund_id = $1 ORDER BY account`, [refundId]);
  return rows;
}

describe('refunds', () => {
  it('names the top-up by its ledger entry as the released GraphQL API does, refunding all of it by default', async () => {
    const payer = await seedUser(w.pool);
    const topUp = await paidTopUp(payer, '1200');
    const { rows } = await w.pool.query(`SELECT id FROM billing.ledger_entries WHERE payment_id = $1 AND kind = 'topup_credit' AND account = 'wallet'`, [topUp.id]);
    const refund = await requestRefund(w.deps, payer, { amountMinor: null, currency: null, reason: null, paymentId: null, ledgerEntryId: rows[0].id });
    expect(refund).toMatchObject({ paymentId: topUp.id, amountMinor: '1200', reason: 'No reason given', status: 'requested' });
    const stranger = await seedUser(w.pool);
    expect((await refusal(requestRefund(w.deps, stranger, { amountMinor: null, currency: null, reason: null, paymentId: null, ledgerEntryId: rows[0].id }))).code).toBe('not_found');
    expect((await refusal(requestRefund(w.deps, payer, { amountMinor: null, currency: null, reason: null, paymentId: null }))).code).toBe('validation_error');
  });

  it('bounds a request by what is refundable and books nothing until approval', async () => {
    const payer = await seedUser(w.pool);
    const topUp = await paidTopUp(payer, '3000');
    expect((await refusal(requestRefund(w.deps, payer, ask('3001')))).code).toBe('unprocessable');
    const first = await requestRefund(w.deps, payer, ask('2000'));
    expect(first).toMatchObject({ status: 'requested', paymentId: topUp.id, amountMinor: '2000', userId: payer.userId, decidedAt: null });
    // What a request holds is no longer refundable, by a second request or on the session's view.
    expect((await refusal(requestRefund(w.deps, payer, ask('1001', topUp.id)))).code).toBe('unprocessable');
    expect(await findCheckoutSession(w.pool, 30, topUp.id)).toMatchObject({ refundableMinor: '1000' });
    expect(await refundEntries(first.id)).toEqual([]);
    expect(await walletBalance(w.pool, topUp.walletId)).toBe(3000n);
    expect((await refusal(requestRefund(w.deps, await seedUser(w.pool), ask('100', topUp.id)))).code).toBe('unprocessable');
  });

  it('approves through Stripe with an idempotency key, books the ledger once and audits it', async () => {
    const payer = await seedUser(w.pool);
    const topUp = await paidTopUp(payer, '5000');
    const refund = await requestRefund(w.deps, payer, ask('1500'));
    const approved = await approveRefund(w.deps, admin, refund.id, 'Verified unused credit');
    expect(approved).toMatchObject({ status: 'succeeded', decidedBy: admin.userId });
    expect(approved.stripeRefundId).toMatch(/^re_/);
    const call = w.stripeApi.requests.find((request) => request.path === '/v1/refunds' && (request.params['metadata'] as Record<string, string>)['refund_id'] === refund.id)!;
    expect(call).toMatchObject({ idempotencyKey: `refund-${refund.id}`, params: { amount: '1500', payment_intent: topUp.stripePaymentIntentId } });
    expect(await refundEntries(refund.id)).toEqual([
      { amount: '1500', account: 'refunds_paid' },
      { amount: '-1500', account: 'wallet' },
    ]);
    expect(await walletBalance(w.pool, topUp.walletId)).toBe(3500n);
    expect(await findCheckoutSession(w.pool, 30, topUp.id)).toMatchObject({ refundedMinor: '1500', refundableMinor: '3500' });
    expect(await auditOf(refund.id)).toEqual([{ action: 'refund.approve', actor_id: admin.userId, actor_kind: 'admin' }]);
    expect((await refusal(approveRefund(w.deps, admin, refund.id, null))).code).toBe('invalid_state_transition');
    expect(await refundEntries(refund.id)).toHaveLength(2);
  });

  it('refuses an approval when the unused balance has shrunk below the refund', async () => {
    const payer = await seedUser(w.pool);
    const topUp = await paidTopUp(payer, '2000');
    const refund = await requestRefund(w.deps, payer, ask('1500'));
    await w.pool.query(`UPDATE billing.payments SET refunded_amount_minor = 1000 WHERE id = $1`, [topUp.id]);
    expect((await refusal(approveRefund(w.deps, admin, refund.id, null))).code).toBe('unprocessable');
    expect((await refusal(approveRefund(w.deps, admin, refund.id, null))).code).toBe('unprocessable');
  });

  it('rejects a requested refund with a reason, audited, booking nothing', async () => {
    const payer = await seedUser(w.pool);
    await paidTopUp(payer, '2000');
    const refund = await requestRefund(w.deps, payer, ask('500'));
    const rejected = await rejectRefund(w.deps, admin, refund.id, 'Credit came from a promotional grant');
    expect(rejected).toMatchObject({ status: 'rejected', decisionNote: 'Credit came from a promotional grant', decidedBy: admin.userId });
    expect(await auditOf(refund.id)).toEqual([{ action: 'refund.reject', actor_id: admin.userId, actor_kind: 'admin' }]);
    expect(await refundEntries(refund.id)).toEqual([]);
    expect((await refusal(rejectRefund(w.deps, admin, refund.id, 'again'))).code).toBe('invalid_state_transition');
    expect((await refusal(approveRefund(w.deps, admin, refund.id, null))).code).toBe('invalid_state_transition');
  });

  it('leaves a refund Stripe refuses failed and answers upstream_error', async () => {
    const payer = await seedUser(w.pool);
    const topUp = await paidTopUp(payer, '2000');
    const refund = await requestRefund(w.deps, payer, ask('500'));
    w.stripeApi.failRefunds('This charge is disputed');
    try {
      expect((await refusal(approveRefund(w.deps, admin, refund.id, null))).code).toBe('upstream_error');
    } finally {
      w.stripeApi.failRefunds(undefined);
    }
    const { rows } = await w.pool.query('SELECT status, failure_reason FROM billing.refunds WHERE id = $1', [refund.id]);
    expect(rows[0]).toMatchObject({ status: 'failed' });
    expect(rows[0].failure_reason).toContain('disputed');
    expect(await refundEntries(refund.id)).toEqual([]);
    expect(await walletBalance(w.pool, topUp.walletId)).toBe(2000n);
  });

  it('books a refund Stripe was still processing when refund.updated says it succeeded', async () => {
    const payer = await seedUser(w.pool);
    const topUp = await paidTopUp(payer, '4000');
    const refund = await requestRefund(w.deps, payer, ask('1000'));
    w.stripeApi.setRefundStatus('pending');
    let approved;
    try {
      approved = await approveRefund(w.deps, admin, refund.id, null);
    } finally {
      w.stripeApi.setRefundStatus('succeeded');
    }
    expect(approved).toMatchObject({ status: 'approved' });
    expect(await refundEntries(refund.id)).toEqual([]);
    const event = w.stripeApi.settleRefund(approved.stripeRefundId!, 'succeeded');
    const body = JSON.stringify(event);
    await receiveStripeWebhook(w.deps, { rawBody: Buffer.from(body), signatureHeader: w.sign(body), correlationId: 'corr-refund' });
    const received = (await outboxOf(w.pool, subjects.paymentsStripeEventReceived)).find((envelope) => (envelope.payload as { stripe_event_id: string }).stripe_event_id === event.id)!;
    expect(await handleStripeEventReceived(w.deps, received)).toBe('applied');
    expect(await refundEntries(refund.id)).toHaveLength(2);
    expect(await walletBalance(w.pool, topUp.walletId)).toBe(3000n);
  });

  it('lets concurrent requests together claim no more than is refundable, and concurrent approvals book once', async () => {
    const payer = await seedUser(w.pool);
    const topUp = await paidTopUp(payer, '3000');
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => requestRefund(w.deps, payer, ask('1000'))));
    const granted = outcomes.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => (outcome as PromiseFulfilledResult<Awaited<ReturnType<typeof requestRefund>>>).value);
    expect(granted).toHaveLength(3);
    for (const outcome of outcomes.filter((candidate) => candidate.status === 'rejected')) expect((outcome as PromiseRejectedResult).reason.code).toBe('unprocessable');

    const refund = granted[0]!;
    const approvals = await Promise.allSettled([approveRefund(w.deps, admin, refund.id, null), approveRefund(w.deps, admin, refund.id, null)]);
    expect(approvals.some((approval) => approval.status === 'fulfilled')).toBe(true);
    expect(await refundEntries(refund.id)).toHaveLength(2);
    expect(w.stripeApi.refunds.size).toBeGreaterThan(0);
    expect([...w.stripeApi.refunds.values()].filter((stripeRefund) => (stripeRefund['metadata'] as Record<string, string>)['refund_id'] === refund.id)).toHaveLength(1);
    expect(await walletBalance(w.pool, topUp.walletId)).toBe(2000n);
  });
});

import { recordAudit, withTransaction } from '@gpuaas/db';
import { AppError, NotFound } from '@gpuaas/errors';
import type { BillingDeps } from '../deps.js';
import { walletBalance } from '../ledger/post.js';
import { lockWallet } from '../ledger/wallets.js';
import type { Actor } from '../payments/actor.js';
import { providerMessage, stripeClientFor, upstreamError } from '../payments/stripe-client.js';
import { findRefund, pendingRefundsOf, refundablePayments, type RefundRecord } from './repository.js';
import { bookSucceededRefund } from './settle.js';

/**
 * Approves a requested refund and refunds it through Stripe. First, in one transaction with its audit row: the
 * refund must be `requested` (409 invalid_state_transition otherwise) and still within what is refundable (422),
 * and it becomes `approved`. Then Stripe is asked with Idempotency-Key `refund-<id>`, so a retry never refunds
 * twice; an `approved` refund Stripe has not answered yet may be approved again to resume. When Stripe accepts,
 * the ledger entry is booked once (by the refund id) and the refund is `succeeded`, or stays `approved` while Stripe
 * is processing (refund.updated settles it). Stripe refusing leaves it `failed` and answers 502 upstream_error.
 */
export async function approveRefund(deps: Pick<BillingDeps, 'pool' | 'logger' | 'config'>, admin: Actor, refundId: string, note: string | null): Promise<RefundRecord> {
  const refund = await withTransaction(deps.pool, async (client) => {
    const current = await findRefund(client, refundId, undefined, true);
    if (!current) throw NotFound('Refund');
    const resumable = current.status === 'approved' && current.stripeRefundId === null;
    if (current.status !== 'requested' && !resumable) {
      throw new AppError('invalid_state_transition', `A refund in ${current.status} cannot be approved`, { status: current.status });
    }
    await lockWallet(client, current.walletId);
    const [payment] = await refundablePayments(client, {
      userId: current.userId,
      walletId: current.walletId,
      paymentId: current.paymentId,
      windowDays: deps.config.policies.refund_window_days,
      exceptRefundId: current.id,
      lock: true,
    });
    const unused = (await walletBalance(client, current.walletId)) - (await pendingRefundsOf(client, current.walletId, current.id));
    const amount = BigInt(current.amountMinor);
    if (!payment || payment.refundableMinor < amount || unused < amount) {
      throw new AppError('unprocessable', 'The refundable amount is now below this refund', { refundable_minor: String(payment && payment.refundableMinor < unused ? payment.refundableMinor : unused) });
    }
    await client.query(`UPDATE billing.refunds SET status = 'approved', decided_by = $2, decided_at = COALESCE(decided_at, now()), decision_note = $3, updated_at = now() WHERE id = $1`, [
      current.id,
      admin.userId,
      note,
    ]);
    await recordAudit(client, {
      domain: 'billing',
      actorKind: 'admin',
      actorId: admin.userId,
      action: 'refund.approve',
      targetType: 'refund',
      targetId: current.id,
      correlationId: admin.correlationId,
      details: { amount_minor: current.amountMinor, currency: current.currency, payment_id: current.paymentId, note },
    });
    return { ...current, decidedBy: admin.userId, paymentIntent: payment.stripePaymentIntentId };
  });

  let stripeRefund;
  try {
    stripeRefund = await stripeClientFor(deps.config.stripe).refunds.create(
      { payment_intent: refund.paymentIntent, amount: Number(refund.amountMinor), metadata: { refund_id: refund.id, user_id: refund.userId } },
      { idempotencyKey: `refund-${refund.id}` },
    );
  } catch (error) {
    deps.logger.warn({ err: error, refund_id: refund.id }, 'stripe refused a refund');
    await deps.pool.query(`UPDATE billing.refunds SET status = 'failed', failure_reason = $2, updated_at = now() WHERE id = $1 AND status = 'approved'`, [refund.id, providerMessage(error)]);
    throw upstreamError(error, 'refund the payment');
  }

  const acceptedId = stripeRefund.id;
  const succeeded = stripeRefund.status === 'succeeded';
  await withTransaction(deps.pool, async (client) => {
    const locked = await findRefund(client, refund.id, undefined, true);
    if (!locked || locked.status !== 'approved') return;
    if (succeeded) await bookSucceededRefund(client, locked, acceptedId, admin.correlationId);
    else await client.query('UPDATE billing.refunds SET stripe_refund_id = $2, updated_at = now() WHERE id = $1', [refund.id, acceptedId]);
  });
  const settled = await findRefund(deps.pool, refund.id);
  if (!settled) throw NotFound('Refund');
  return settled;
}

/** Rejects a requested refund with a reason shown to the user; nothing is booked. Audited. */
export async function rejectRefund(deps: Pick<BillingDeps, 'pool'>, admin: Actor, refundId: string, reason: string): Promise<RefundRecord> {
  await withTransaction(deps.pool, async (client) => {
    const current = await findRefund(client, refundId, undefined, true);
    if (!current) throw NotFound('Refund');
    if (current.status !== 'requested') throw new AppError('invalid_state_transition', `A refund in ${current.status} cannot be rejected`, { status: current.status });
    await client.query(`UPDATE billing.refunds SET status = 'rejected', decided_by = $2, decided_at = now(), decision_note = $3, updated_at = now() WHERE id = $1`, [current.id, admin.userId, reason]);
    await recordAudit(client, {
      domain: 'billing',
      actorKind: 'admin',
      actorId: admin.userId,
      action: 'refund.reject',
      targetType: 'refund',
      targetId: current.id,
      correlationId: admin.correlationId,
      details: { amount_minor: current.amountMinor, currency: current.currency, reason },
    });
  });
  const rejected = await findRefund(deps.pool, refundId);
  if (!rejected) throw NotFound('Refund');
  return rejected;
}

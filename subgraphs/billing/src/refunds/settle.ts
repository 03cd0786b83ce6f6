import type pg from 'pg';
import { postLedgerEntries } from '../ledger/post.js';
import { findRefundByStripeId, type RefundRecord } from './repository.js';

/**
 * Books an accepted refund: the negative `refund` ledger entry (idempotent by the refund id, so it is booked once
 * however often this runs), the payment's refunded amount, and the refund's `succeeded` state. Runs in the
 * caller's transaction with the refund row locked.
 */
export async function bookSucceededRefund(client: pg.ClientBase, refund: RefundRecord, stripeRefundId: string, correlationId: string | null): Promise<void> {
  if (refund.status === 'succeeded') return;
  await postLedgerEntries(client, {
    idempotencyKey: `refund:${refund.id}`,
    kind: 'refund',
    walletId: refund.walletId,
    amountMinor: BigInt(refund.amountMinor),
    currency: refund.currency,
    refundId: refund.id,
    paymentId: refund.paymentId,
    description: 'Refund of unused top-up via Stripe',
    actorUserId: refund.decidedBy,
    correlationId,
  });
  await client.query('UPDATE billing.payments SET refunded_amount_minor = refunded_amount_minor + $2, updated_at = now() WHERE id = $1', [refund.paymentId, refund.amountMinor]);
  await client.query(`UPDATE billing.refunds SET status = 'succeeded', stripe_refund_id = $2, failure_reason = NULL, updated_at = now() WHERE id = $1`, [refund.id, stripeRefundId]);
}

/**
 * Settles a refund Stripe had still been processing when it was approved (`refund.updated`): succeeded books it,
 * failed or canceled releases the amount. A refund already settled, or not ours, changes nothing.
 */
export async function settleRefundFromStripe(client: pg.ClientBase, object: Record<string, unknown>, correlationId: string): Promise<'applied' | 'ignored'> {
  if (typeof object['id'] !== 'string') return 'ignored';
  const refund = await findRefundByStripeId(client, object['id']);
  if (!refund || refund.status !== 'approved') return 'ignored';
  if (object['status'] === 'succeeded') {
    await bookSucceededRefund(client, refund, object['id'], correlationId);
    return 'applied';
  }
  if (object['status'] === 'failed' || object['status'] === 'canceled') {
    await client.query(`UPDATE billing.refunds SET status = 'failed', failure_reason = $2, updated_at = now() WHERE id = $1`, [refund.id, `stripe: ${String(object['failure_reason'] ?? object['status'])}`]);
    return 'applied';
  }
  return 'ignored';
}

import type pg from 'pg';
import { withTransaction } from '@gpuaas/db';
import { createEnvelope, subjects, type EventEnvelope } from '@gpuaas/events';
import { writeOutbox } from '@gpuaas/outbox';
import type { BillingDeps } from '../deps.js';
import { settleRefundFromStripe } from '../refunds/settle.js';
import { isUuid } from './pagination.js';

/** What the webhook-worker needs: the database (a BillingDeps fits). */
export type StripeEventDeps = Pick<BillingDeps, 'pool' | 'logger'>;

/**
 * applied: the event changed something; duplicate: it was handled before; ignored: nothing to do for it;
 * not_ready: it refers to a checkout session not recorded yet (the webhook overtook our own insert), retry later;
 * malformed: the message or the stored event cannot be applied, ever.
 */
export type StripeEventResult = 'applied' | 'duplicate' | 'ignored' | 'not_ready' | 'malformed';

interface StoredEvent {
  id: string;
  stripe_event_id: string;
  type: string;
  payload: { created?: number; data?: { object?: Record<string, unknown> } };
  processed_at: Date | null;
}

/**
 * Applies one stored Stripe event (the webhook-worker's use case for `payments.stripe_event_received`). The stored
 * row is locked and marked processed in the same transaction as its effects, so redeliveries and concurrent
 * workers apply it once; out-of-order events are judged by the state they find (an expiry after a completion
 * changes nothing, a completion after an expiry still credits the money Stripe collected).
 */
export async function handleStripeEventReceived(deps: StripeEventDeps, envelope: EventEnvelope): Promise<StripeEventResult> {
  const rowId = (envelope.payload as Record<string, unknown>)['stripe_event_row_id'];
  if (typeof rowId !== 'string' || !isUuid(rowId)) return 'malformed';
  return withTransaction(deps.pool, async (client) => {
    const { rows } = await client.query<StoredEvent>('SELECT id, stripe_event_id, type, payload, processed_at FROM billing.stripe_events WHERE id = $1 FOR UPDATE', [rowId]);
    const stored = rows[0];
    if (!stored) return 'malformed';
    if (stored.processed_at) return 'duplicate';
    const object = stored.payload.data?.object;
    if (!object) return markProcessed(client, stored.id, 'malformed', 'the event carries no data.object');
    const result = await apply(client, stored, object, envelope.correlation_id);
    if (result === 'not_ready') return result;
    return markProcessed(client, stored.id, result, result === 'malformed' ? `cannot apply ${stored.type}` : null);
  });
}

async function apply(client: pg.PoolClient, stored: StoredEvent, object: Record<string, unknown>, correlationId: string): Promise<StripeEventResult> {
  switch (stored.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return completeCheckout(client, stored, object, correlationId);
    case 'checkout.session.expired':
      return expireCheckout(client, object);
    case 'refund.updated':
    case 'refund.created':
      return settleRefundFromStripe(client, object, correlationId);
    default:
      return 'ignored';
  }
}

interface OurSession {
  id: string;
  user_id: string;
  wallet_id: string;
  currency: string;
  status: string;
  owner_kind: string;
  owner_id: string;
}

async function completeCheckout(client: pg.PoolClient, stored: StoredEvent, session: Record<string, unknown>, correlationId: string): Promise<StripeEventResult> {
  const ours = await lockSession(client, session['id']);
  if (!ours) return 'not_ready';
  // Async payment methods complete unpaid first; their async_payment_succeeded event credits later.
  if (session['payment_status'] !== 'paid') return 'ignored';
  if (ours.status === 'complete') return 'duplicate';
  const amount = Number(session['amount_total']);
  const currency = String(session['currency'] ?? '').toUpperCase();
  if (!Number.isSafeInteger(amount) || amount <= 0 || currency !== ours.currency.trim()) return 'malformed';
  const paidAt = new Date((typeof stored.payload.created === 'number' ? stored.payload.created : Date.now() / 1000) * 1000);
  await client.query(`UPDATE billing.checkout_sessions SET status = 'complete', completed_at = $2, updated_at = now() WHERE id = $1`, [ours.id, paidAt]);
  // The payment shares the checkout session's id: payments.balance_credited's payment_id is "our checkout session id".
  const paymentIntent = typeof session['payment_intent'] === 'string' ? session['payment_intent'] : String(session['id']);
  await client.query(
    `INSERT INTO billing.payments (id, stripe_payment_intent_id, checkout_session_id, user_id, wallet_id, amount_minor, currency, stripe_event_id)
     VALUES ($1, $2, $1, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [ours.id, paymentIntent, ours.user_id, ours.wallet_id, amount, currency, stored.stripe_event_id],
  );
  await writeOutbox(
    client,
    createEnvelope(
      subjects.paymentsBalanceCredited,
      {
        payment_id: ours.id,
        stripe_event_id: stored.stripe_event_id,
        stripe_checkout_session_id: String(session['id']),
        user_id: ours.user_id,
        wallet_id: ours.wallet_id,
        project_id: ours.owner_kind === 'project' ? ours.owner_id : null,
        amount: { amount_minor: amount, currency },
        paid_at: paidAt.toISOString(),
      },
      { correlationId },
    ),
  );
  return 'applied';
}

async function expireCheckout(client: pg.PoolClient, session: Record<string, unknown>): Promise<StripeEventResult> {
  const ours = await lockSession(client, session['id']);
  // A session we never recorded cannot be paid any more either: nothing to keep.
  if (!ours || ours.status !== 'open') return 'ignored';
  await client.query(`UPDATE billing.checkout_sessions SET status = 'expired', updated_at = now() WHERE id = $1`, [ours.id]);
  return 'applied';
}

async function lockSession(client: pg.PoolClient, stripeSessionId: unknown): Promise<OurSession | undefined> {
  if (typeof stripeSessionId !== 'string') return undefined;
  const { rows } = await client.query<OurSession>(
    `SELECT cs.id, cs.user_id, cs.wallet_id, cs.currency, cs.status, w.owner_kind, w.owner_id
     FROM billing.checkout_sessions cs JOIN billing.wallets w ON w.id = cs.wallet_id
     WHERE cs.stripe_session_id = $1 FOR UPDATE OF cs`,
    [stripeSessionId],
  );
  return rows[0];
}

async function markProcessed(client: pg.PoolClient, id: string, result: StripeEventResult, error: string | null): Promise<StripeEventResult> {
  await client.query('UPDATE billing.stripe_events SET processed_at = now(), processing_error = $2 WHERE id = $1', [id, error]);
  return result;
}

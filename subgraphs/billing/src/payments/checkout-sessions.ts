import type pg from 'pg';
import { cursorTimestamp, fromCursorTimestamp, type PageRequest } from './pagination.js';

export type CheckoutStatus = 'open' | 'complete' | 'expired';

/** A checkout session with what the views show about it: its wallet's owner, its payment, what is refundable. */
export interface CheckoutSessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly walletId: string;
  readonly projectId: string | null;
  readonly stripeSessionId: string;
  readonly url: string;
  readonly status: CheckoutStatus;
  readonly amountMinor: string;
  readonly currency: string;
  readonly refundedMinor: string;
  readonly refundableMinor: string;
  readonly stripePaymentIntentId: string | null;
  readonly stripeEventId: string | null;
  readonly expiresAt: Date;
  readonly completedAt: Date | null;
  readonly createdAt: Date;
  readonly cursorTs: string;
}

interface Row {
  id: string;
  user_id: string;
  wallet_id: string;
  project_id: string | null;
  stripe_session_id: string;
  url: string;
  status: CheckoutStatus;
  amount_minor: string;
  currency: string;
  refunded_minor: string;
  refundable_minor: string;
  stripe_payment_intent_id: string | null;
  stripe_event_id: string | null;
  expires_at: Date;
  completed_at: Date | null;
  created_at: Date;
  cursor_ts: string;
}

const toRecord = (row: Row): CheckoutSessionRecord => ({
  id: row.id,
  userId: row.user_id,
  walletId: row.wallet_id,
  projectId: row.project_id,
  stripeSessionId: row.stripe_session_id,
  url: row.url,
  status: row.status,
  amountMinor: row.amount_minor,
  currency: row.currency.trim(),
  refundedMinor: row.refunded_minor,
  refundableMinor: row.refundable_minor,
  stripePaymentIntentId: row.stripe_payment_intent_id,
  stripeEventId: row.stripe_event_id,
  expiresAt: row.expires_at,
  completedAt: row.completed_at,
  createdAt: row.created_at,
  cursorTs: row.cursor_ts,
});

/**
 * What is still refundable of a payment: its amount less what was refunded and what refunds in flight hold, and
 * nothing once it is older than the refund window ($windowParam days).
 */
export const refundableOf = (payment: string, windowParam: string) => `CASE
    WHEN ${payment}.id IS NULL OR ${payment}.created_at <= now() - make_interval(days => ${windowParam}::int) THEN 0
    ELSE GREATEST(0, ${payment}.amount_minor - ${payment}.refunded_amount_minor - COALESCE((
      SELECT sum(r.amount_minor) FROM billing.refunds r WHERE r.payment_id = ${payment}.id AND r.status IN ('requested', 'approved')), 0))
  END`;

const selectFrom = (windowParam: string) => `
  SELECT cs.id, cs.user_id, cs.wallet_id, CASE WHEN w.owner_kind = 'project' THEN w.owner_id END AS project_id,
         cs.stripe_session_id, cs.url, cs.status, cs.amount_minor::text, cs.currency,
         COALESCE(p.refunded_amount_minor, 0)::text AS refunded_minor, (${refundableOf('p', windowParam)})::text AS refundable_minor,
         p.stripe_payment_intent_id, p.stripe_event_id, cs.expires_at, cs.completed_at, cs.created_at,
         ${cursorTimestamp('cs.created_at')} AS cursor_ts
  FROM billing.checkout_sessions cs
  JOIN billing.wallets w ON w.id = cs.wallet_id
  LEFT JOIN billing.payments p ON p.checkout_session_id = cs.id`;

export interface NewCheckoutSession {
  readonly id: string;
  readonly userId: string;
  readonly walletId: string;
  readonly stripeSessionId: string;
  readonly amountMinor: string;
  readonly currency: string;
  readonly url: string;
  readonly expiresAt: Date;
}

export async function insertCheckoutSession(db: pg.Pool | pg.ClientBase, session: NewCheckoutSession): Promise<void> {
  await db.query(
    `INSERT INTO billing.checkout_sessions (id, user_id, wallet_id, stripe_session_id, amount_minor, currency, url, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (stripe_session_id) DO NOTHING`,
    [session.id, session.userId, session.walletId, session.stripeSessionId, session.amountMinor, session.currency, session.url, session.expiresAt],
  );
}

/** The session by id; with `userId`, only that user's (another user's answers like a missing one). */
export async function findCheckoutSession(db: pg.Pool | pg.ClientBase, refundWindowDays: number, id: string, userId?: string): Promise<CheckoutSessionRecord | undefined> {
  const { rows } = await db.query<Row>(`${selectFrom('$1')} WHERE cs.id = $2 AND ($3::uuid IS NULL OR cs.user_id = $3)`, [refundWindowDays, id, userId ?? null]);
  return rows[0] && toRecord(rows[0]);
}

export interface CheckoutSessionFilter {
  readonly userId: string | null;
  readonly status: CheckoutStatus | null;
  readonly from: Date | null;
  readonly to: Date | null;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listCheckoutSessions(db: pg.Pool, refundWindowDays: number, filter: CheckoutSessionFilter, page: PageRequest): Promise<CheckoutSessionRecord[]> {
  const { rows } = await db.query<Row>(
    `${selectFrom('$1')}
     WHERE ($2::uuid IS NULL OR cs.user_id = $2) AND ($3::text IS NULL OR cs.status = $3)
       AND ($4::timestamptz IS NULL OR cs.created_at >= $4) AND ($5::timestamptz IS NULL OR cs.created_at < $5)
       AND ($6::text IS NULL OR (cs.created_at, cs.id) < (${fromCursorTimestamp('$6')}, $7::uuid))
     ORDER BY cs.created_at DESC, cs.id DESC LIMIT $8`,
    [refundWindowDays, filter.userId, filter.status, filter.from, filter.to, page.after?.ts ?? null, page.after?.id ?? null, page.first + 1],
  );
  return rows.map(toRecord);
}

import type pg from 'pg';
import { cursorTimestamp, fromCursorTimestamp, type PageRequest } from '../payments/pagination.js';

export type RefundStatus = 'requested' | 'approved' | 'rejected' | 'succeeded' | 'failed';

export interface RefundRecord {
  readonly id: string;
  readonly userId: string;
  readonly walletId: string;
  readonly paymentId: string;
  readonly amountMinor: string;
  readonly currency: string;
  readonly reason: string;
  readonly status: RefundStatus;
  readonly decisionNote: string | null;
  readonly stripeRefundId: string | null;
  readonly decidedBy: string | null;
  readonly decidedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly cursorTs: string;
}

interface Row {
  id: string;
  user_id: string;
  wallet_id: string;
  payment_id: string;
  amount_minor: string;
  currency: string;
  reason: string;
  status: RefundStatus;
  decision_note: string | null;
  stripe_refund_id: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  created_at: Date;
  updated_at: Date;
  cursor_ts: string;
}

const COLUMNS = `r.id, r.user_id, r.wallet_id, r.payment_id, r.amount_minor::text, r.currency, r.reason, r.status, r.decision_note,
  r.stripe_refund_id, r.decided_by, r.decided_at, r.created_at, r.updated_at, ${cursorTimestamp('r.created_at')} AS cursor_ts`;

const toRecord = (row: Row): RefundRecord => ({
  id: row.id,
  userId: row.user_id,
  walletId: row.wallet_id,
  paymentId: row.payment_id,
  amountMinor: row.amount_minor,
  currency: row.currency.trim(),
  reason: row.reason,
  status: row.status,
  decisionNote: row.decision_note,
  stripeRefundId: row.stripe_refund_id,
  decidedBy: row.decided_by,
  decidedAt: row.decided_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  cursorTs: row.cursor_ts,
});

/** With `userId`, only that user's refund (another user's answers like a missing one). */
export async function findRefund(db: pg.Pool | pg.ClientBase, id: string, userId?: string, forUpdate = false): Promise<RefundRecord | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM billing.refunds r WHERE r.id = $1 AND ($2::uuid IS NULL OR r.user_id = $2)${forUpdate ? ' FOR UPDATE' : ''}`,
    [id, userId ?? null],
  );
  return rows[0] && toRecord(rows[0]);
}

export async function findRefundByStripeId(db: pg.ClientBase, stripeRefundId: string): Promise<RefundRecord | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM billing.refunds r WHERE r.stripe_refund_id = $1 FOR UPDATE`, [stripeRefundId]);
  return rows[0] && toRecord(rows[0]);
}

export interface RefundFilter {
  readonly userId: string | null;
  readonly status: RefundStatus | null;
}

/** Users see newest first; the operators' review queue reads oldest first. */
export async function listRefunds(db: pg.Pool, filter: RefundFilter, page: PageRequest, order: 'newest' | 'oldest'): Promise<RefundRecord[]> {
  const [direction, comparison] = order === 'newest' ? ['DESC', '<'] : ['ASC', '>'];
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM billing.refunds r
     WHERE ($1::uuid IS NULL OR r.user_id = $1) AND ($2::text IS NULL OR r.status = $2)
       AND ($3::text IS NULL OR (r.created_at, r.id) ${comparison} (${fromCursorTimestamp('$3')}, $4::uuid))
     ORDER BY r.created_at ${direction}, r.id ${direction} LIMIT $5`,
    [filter.userId, filter.status, page.after?.ts ?? null, page.after?.id ?? null, page.first + 1],
  );
  return rows.map(toRecord);
}

export interface RefundablePayment {
  readonly id: string;
  readonly walletId: string;
  readonly currency: string;
  readonly stripePaymentIntentId: string;
  /** Amount less refunded less refunds in flight (other than `exceptRefundId`); 0 outside the refund window. */
  readonly refundableMinor: bigint;
}

/**
 * The user's personal-wallet payments with what each can still refund, newest first; `paymentId` narrows to one.
 * `lock` takes the payment rows, so two refund decisions on one payment run one after the other.
 */
export async function refundablePayments(
  db: pg.ClientBase,
  options: { userId: string; walletId: string; paymentId: string | null; windowDays: number; exceptRefundId?: string; lock?: boolean },
): Promise<RefundablePayment[]> {
  const { rows } = await db.query<{ id: string; wallet_id: string; currency: string; stripe_payment_intent_id: string; refundable_minor: string }>(
    `SELECT p.id, p.wallet_id, p.currency, p.stripe_payment_intent_id,
       CASE WHEN p.created_at <= now() - make_interval(days => $4::int) THEN 0
            ELSE GREATEST(0, p.amount_minor - p.refunded_amount_minor - COALESCE((
              SELECT sum(r.amount_minor) FROM billing.refunds r
              WHERE r.payment_id = p.id AND r.status IN ('requested', 'approved') AND r.id IS DISTINCT FROM $5::uuid), 0)) END::text AS refundable_minor
     FROM billing.payments p
     WHERE p.user_id = $1 AND p.wallet_id = $2 AND ($3::uuid IS NULL OR p.id = $3)
     ORDER BY p.created_at DESC, p.id DESC${options.lock ? ' FOR UPDATE OF p' : ''}`,
    [options.userId, options.walletId, options.paymentId, options.windowDays, options.exceptRefundId ?? null],
  );
  return rows.map((row) => ({
    id: row.id,
    walletId: row.wallet_id,
    currency: row.currency.trim(),
    stripePaymentIntentId: row.stripe_payment_intent_id,
    refundableMinor: BigInt(row.refundable_minor),
  }));
}

/** What refunds in flight on the wallet already hold of its balance (besides `exceptRefundId`). */
export async function pendingRefundsOf(db: pg.ClientBase, walletId: string, exceptRefundId?: string): Promise<bigint> {
  const { rows } = await db.query<{ pending: string }>(
    `SELECT COALESCE(sum(amount_minor), 0)::text AS pending FROM billing.refunds
     WHERE wallet_id = $1 AND status IN ('requested', 'approved') AND id IS DISTINCT FROM $2::uuid`,
    [walletId, exceptRefundId ?? null],
  );
  return BigInt(rows[0]?.pending ?? '0');
}

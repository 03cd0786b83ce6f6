import type { LedgerEntryKind } from './accounts.js';

/** The customer's side of one posting: what the ledger listings and the balance chain show. */
export interface LedgerEntry {
  readonly id: string;
  readonly transactionId: string;
  readonly walletId: string;
  readonly kind: LedgerEntryKind;
  /** Signed as the wallet sees it: credits positive, debits negative. */
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly balanceAfterMinor: bigint;
  /** Position in the wallet's chain of entries (1, 2, …); the listing cursor. */
  readonly walletSeq: bigint;
  readonly allocationId: string | null;
  readonly meterPeriodId: string | null;
  readonly paymentId: string | null;
  readonly refundId: string | null;
  readonly actorId: string | null;
  readonly description: string;
  readonly idempotencyKey: string;
  readonly createdAt: Date;
}

export const ENTRY_COLUMNS =
  'e.id, e.transaction_id, e.wallet_id, e.kind, e.amount_minor, e.currency, e.balance_after, e.wallet_seq, e.allocation_id, ' +
  'e.meter_period_id, e.payment_id, e.refund_id, e.actor_id, e.description, e.idempotency_key, e.created_at';

export interface EntryRow {
  id: string;
  transaction_id: string;
  wallet_id: string;
  kind: LedgerEntryKind;
  amount_minor: string;
  currency: string;
  balance_after: string;
  wallet_seq: string;
  allocation_id: string | null;
  meter_period_id: string | null;
  payment_id: string | null;
  refund_id: string | null;
  actor_id: string | null;
  description: string;
  idempotency_key: string;
  created_at: Date;
}

export function toLedgerEntry(row: EntryRow): LedgerEntry {
  return {
    id: row.id,
    transactionId: row.transaction_id,
    walletId: row.wallet_id,
    kind: row.kind,
    amountMinor: BigInt(row.amount_minor),
    currency: row.currency.trim(),
    balanceAfterMinor: BigInt(row.balance_after),
    walletSeq: BigInt(row.wallet_seq),
    allocationId: row.allocation_id,
    meterPeriodId: row.meter_period_id,
    paymentId: row.payment_id,
    refundId: row.refund_id,
    actorId: row.actor_id,
    description: row.description,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
  };
}

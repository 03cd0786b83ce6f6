import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';
import { AppError } from '@gpuaas/errors';
import { counterAccountOf, walletSignOf, type LedgerEntryKind } from './accounts.js';
import { ENTRY_COLUMNS, toLedgerEntry, type EntryRow, type LedgerEntry } from './entries.js';
import { ensureWallet, lockWallet } from './wallets.js';

export interface LedgerPosting {
  /** One posting per key, ever: a second call with the same key books nothing and returns the first entry. */
  readonly idempotencyKey: string;
  readonly kind: LedgerEntryKind;
  /** The wallet to post to; or `userId` to post to that user's personal wallet in `currency` (created on demand). */
  readonly walletId?: string;
  readonly userId?: string;
  /**
   * The amount as the wallet sees it. Kinds with a fixed direction take its absolute value with their sign
   * (topup_credit and admin_credit credit, usage_debit and refund debit); an adjustment keeps the sign given.
   */
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly allocationId?: string | null;
  readonly meterPeriodId?: string | null;
  readonly refundId?: string | null;
  readonly paymentId?: string | null;
  readonly description: string;
  readonly actorUserId?: string | null;
  readonly correlationId?: string | null;
}

/**
 * Books one double-entry posting inside the caller's transaction: the wallet leg plus its counter-leg on the
 * kind's platform account, written by one INSERT (the database refuses an unbalanced one). The wallet row stays
 * locked until the caller commits, so concurrent postings to one wallet run one after the other and a debit
 * other than metered usage (a refund, a negative adjustment) never takes the balance below zero
 * (`402 insufficient_balance`). Metered usage may overdraw by at most one tick; the metering tick bounds that.
 * Returns the wallet leg.
 */
export async function postLedgerEntries(client: pg.ClientBase, posting: LedgerPosting): Promise<LedgerEntry> {
  const amount = signedAmount(posting);
  const walletId = await walletIdOf(client, posting);
  const wallet = await lockWallet(client, walletId);
  if (!wallet) throw new AppError('not_found', 'wallet not found');
  if (wallet.currency !== posting.currency) {
    throw new AppError('unprocessable', `the wallet is kept in ${wallet.currency}, not ${posting.currency}`, { wallet_currency: wallet.currency });
  }
  const existing = await entryByIdempotencyKey(client, posting.idempotencyKey);
  if (existing) return existing;
  if (amount < 0n && posting.kind !== 'usage_debit') {
    const balance = await walletBalance(client, walletId);
    if (balance + amount < 0n) {
      throw new AppError('insufficient_balance', 'the wallet balance does not cover this debit', { balance_minor: balance.toString() });
    }
  }

  const transactionId = uuidv7();
  const { rows } = await client.query<EntryRow>(
    `INSERT INTO billing.ledger_entries AS e (id, transaction_id, wallet_id, kind, account, amount_minor, currency, allocation_id,
       meter_period_id, payment_id, refund_id, actor_id, description, idempotency_key, correlation_id)
     SELECT leg.id, $1, $2, $3, leg.account, leg.amount, $4, $5, $6, $7, $8, $9, $10, $11, $12
     FROM (VALUES ($13::uuid, 'wallet', $14::bigint), ($15::uuid, $16, -$14::bigint)) AS leg (id, account, amount)
     ON CONFLICT (idempotency_key, account) DO NOTHING
     RETURNING ${ENTRY_COLUMNS}, e.account`,
    [
      transactionId,
      walletId,
      posting.kind,
      posting.currency,
      posting.allocationId ?? null,
      posting.meterPeriodId ?? null,
      posting.paymentId ?? null,
      posting.refundId ?? null,
      posting.actorUserId ?? null,
      posting.description,
      posting.idempotencyKey,
      posting.correlationId ?? null,
      uuidv7(),
      amount.toString(),
      uuidv7(),
      counterAccountOf[posting.kind],
    ],
  );
  const walletLeg = rows.find((row) => (row as EntryRow & { account: string }).account === 'wallet');
  if (walletLeg) return toLedgerEntry(walletLeg);
  // Lost a race with a posting to another wallet under the same key: answer with the first posting.
  const first = await entryByIdempotencyKey(client, posting.idempotencyKey);
  // ci-allow canonical_error_guard: unreachable, the conflicting row is committed or ours
  if (!first) throw new Error('idempotency conflict without an entry');
  return first;
}

/** The wallet's balance: the running balance of its newest entry (0 for a wallet without entries). */
export async function walletBalance(client: pg.ClientBase | pg.Pool, walletId: string): Promise<bigint> {
  const { rows } = await client.query<{ balance_after: string }>(
    `SELECT balance_after FROM billing.ledger_entries WHERE wallet_id = $1 AND account = 'wallet' ORDER BY wallet_seq DESC LIMIT 1`,
    [walletId],
  );
  return rows[0] ? BigInt(rows[0].balance_after) : 0n;
}

export async function entryByIdempotencyKey(client: pg.ClientBase | pg.Pool, idempotencyKey: string): Promise<LedgerEntry | undefined> {
  const { rows } = await client.query<EntryRow>(
    `SELECT ${ENTRY_COLUMNS} FROM billing.ledger_entries e WHERE e.idempotency_key = $1 AND e.account = 'wallet'`,
    [idempotencyKey],
  );
  return rows[0] && toLedgerEntry(rows[0]);
}

function signedAmount(posting: LedgerPosting): bigint {
  const sign = walletSignOf[posting.kind];
  const magnitude = posting.amountMinor < 0n ? -posting.amountMinor : posting.amountMinor;
  if (magnitude === 0n) throw new AppError('validation_error', 'a ledger amount may not be zero', { fields: [{ field: 'amount.amount_minor', message: 'must not be zero' }] });
  return sign === 0 ? posting.amountMinor : BigInt(sign) * magnitude;
}

async function walletIdOf(client: pg.ClientBase, posting: LedgerPosting): Promise<string> {
  if (posting.walletId) return posting.walletId;
  if (posting.userId) return (await ensureWallet(client, 'user', posting.userId, posting.currency)).id;
  // ci-allow canonical_error_guard: a programming error of the caller, never a client's input
  throw new Error('postLedgerEntries needs walletId or userId');
}

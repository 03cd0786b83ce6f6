import { uuidv7, withTransaction } from '@gpuaas/db';
import { AppError, NotFound, Validation } from '@gpuaas/errors';
import type pg from 'pg';
import type { BillingDeps } from '../deps.js';
import { walletBalance } from '../ledger/post.js';
import { DEFAULT_CURRENCY, findWallet, lockWallet } from '../ledger/wallets.js';
import type { Actor } from '../payments/actor.js';
import { isUuid } from '../payments/pagination.js';
import { findRefund, pendingRefundsOf, refundablePayments, type RefundRecord } from './repository.js';

export interface RefundRequestCommand {
  /** Omitted: all of what is refundable of the named top-up. */
  readonly amountMinor: string | null;
  readonly currency: string | null;
  readonly reason: string | null;
  readonly paymentId: string | null;
  /** The released GraphQL API names a top-up by its topup_credit ledger entry. */
  readonly ledgerEntryId?: string | null;
}

const NO_REASON = 'No reason given';

/**
 * Records a refund request of unused top-up credit from the caller's personal wallet, for an operator to decide.
 * It may not exceed what is refundable: the unused balance (less refunds already in flight) and, of one top-up
 * younger than the refund window, its amount less what was refunded or is in flight. Without a named top-up the
 * newest one that covers the whole amount is used (a refund is booked against exactly one payment). The wallet
 * row is locked, so concurrent requests cannot together exceed the bound. Nothing is booked yet.
 */
export async function requestRefund(deps: Pick<BillingDeps, 'pool' | 'config'>, actor: Actor, command: RefundRequestCommand): Promise<RefundRecord> {
  if (command.amountMinor !== null && (!/^\d{1,18}$/.test(command.amountMinor) || BigInt(command.amountMinor) <= 0n)) {
    throw Validation([{ field: 'body.amount.amount_minor', message: 'must be a positive integer' }]);
  }
  if (command.paymentId !== null && !isUuid(command.paymentId)) throw NotFound('Payment');
  const id = uuidv7();
  await withTransaction(deps.pool, async (client) => {
    const named = command.ledgerEntryId ? await topUpOfLedgerEntry(client, actor.userId, command.ledgerEntryId) : null;
    if (named && command.paymentId && named.paymentId !== command.paymentId) throw Validation([{ field: 'input.paymentId', message: 'names another top-up than ledgerEntryId' }]);
    const paymentId = named?.paymentId ?? command.paymentId;
    if (command.amountMinor === null && !paymentId) throw Validation([{ field: 'body.amount', message: 'is required' }]);
    const currency = (command.currency ?? named?.currency ?? DEFAULT_CURRENCY).toUpperCase();

    const found = await findWallet(client, 'user', actor.userId, currency);
    const wallet = found && (await lockWallet(client, found.id));
    if (!wallet) throw new AppError('unprocessable', `You have no ${currency} top-ups to refund`, { refundable_minor: '0' });
    const payments = await refundablePayments(client, { userId: actor.userId, walletId: wallet.id, paymentId, windowDays: deps.config.policies.refund_window_days });
    if (paymentId && payments.length === 0) throw NotFound('Payment');
    const unused = (await walletBalance(client, wallet.id)) - (await pendingRefundsOf(client, wallet.id));
    const bestRefundable = payments.reduce((best, candidate) => (candidate.refundableMinor > best ? candidate.refundableMinor : best), 0n);
    const refundable = unused < bestRefundable ? (unused > 0n ? unused : 0n) : bestRefundable;
    const amount = command.amountMinor === null ? refundable : BigInt(command.amountMinor);
    const payment = payments.find((candidate) => candidate.refundableMinor >= amount);
    if (amount <= 0n || !payment || amount > unused) {
      throw new AppError('unprocessable', 'The amount exceeds what is refundable', { refundable_minor: refundable.toString() });
    }
    await client.query(
      `INSERT INTO billing.refunds (id, user_id, wallet_id, payment_id, amount_minor, currency, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, actor.userId, wallet.id, payment.id, amount.toString(), currency, command.reason ?? NO_REASON],
    );
  });
  const created = await findRefund(deps.pool, id, actor.userId);
  if (!created) throw NotFound('Refund');
  return created;
}

/** The caller's top-up behind a topup_credit ledger entry; anyone else's entry answers like a missing one. */
async function topUpOfLedgerEntry(client: pg.ClientBase, userId: string, ledgerEntryId: string): Promise<{ paymentId: string; currency: string }> {
  if (!isUuid(ledgerEntryId)) throw NotFound('Ledger entry');
  const { rows } = await client.query<{ payment_id: string; currency: string }>(
    `SELECT e.payment_id, e.currency FROM billing.ledger_entries e JOIN billing.wallets w ON w.id = e.wallet_id
     WHERE e.id = $1 AND e.kind = 'topup_credit' AND e.account = 'wallet' AND w.owner_kind = 'user' AND w.owner_id = $2`,
    [ledgerEntryId, userId],
  );
  if (!rows[0]) throw NotFound('Ledger entry');
  return { paymentId: rows[0].payment_id, currency: rows[0].currency.trim() };
}

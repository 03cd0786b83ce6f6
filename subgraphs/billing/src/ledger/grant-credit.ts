import type pg from 'pg';
import { recordAudit, uuidv7, withTransaction } from '@gpuaas/db';
import { AppError, Validation } from '@gpuaas/errors';
import type { Actor } from '../payments/actor.js';
import type { LedgerEntry } from './entries.js';
import { postLedgerEntries } from './post.js';
import { DEFAULT_CURRENCY, ensureWallet } from './wallets.js';

export interface GrantCreditInput {
  readonly userId?: string | null;
  readonly projectId?: string | null;
  readonly amountMinor: string;
  readonly currency: string;
  readonly reason: string;
}

/** An operator grants credit: one admin_credit posting and its audit row, in one transaction. */
export async function grantCredit(pool: pg.Pool, admin: Actor, input: GrantCreditInput): Promise<LedgerEntry> {
  const issues = [];
  if (Boolean(input.userId) === Boolean(input.projectId)) issues.push({ field: 'body.user_id', message: 'name exactly one of user_id or project_id' });
  if (!/^\d{1,18}$/.test(input.amountMinor) || BigInt(input.amountMinor) < 1n) issues.push({ field: 'body.amount.amount_minor', message: 'must be a positive integer' });
  const reason = input.reason.trim();
  if (reason.length < 3 || reason.length > 500) issues.push({ field: 'body.reason', message: 'must be 3 to 500 characters' });
  if (issues.length > 0) throw Validation(issues);
  if (input.currency !== DEFAULT_CURRENCY) throw new AppError('unprocessable', `the wallet is kept in ${DEFAULT_CURRENCY}, not ${input.currency}`);

  return withTransaction(pool, async (client) => {
    const wallet = await ensureWallet(client, input.userId ? 'user' : 'project', (input.userId ?? input.projectId)!, DEFAULT_CURRENCY);
    const entry = await postLedgerEntries(client, {
      idempotencyKey: `admin-credit:${uuidv7()}`,
      kind: 'admin_credit',
      walletId: wallet.id,
      amountMinor: BigInt(input.amountMinor),
      currency: input.currency,
      description: reason,
      actorUserId: admin.userId,
      correlationId: admin.correlationId,
    });
    await recordAudit(client, {
      domain: 'billing',
      actorKind: 'admin',
      actorId: admin.userId,
      action: 'credit.grant',
      targetType: 'wallet',
      targetId: wallet.id,
      correlationId: admin.correlationId,
      details: { entry_id: entry.id, owner_kind: wallet.ownerKind, owner_id: wallet.ownerId, amount_minor: input.amountMinor, currency: input.currency, reason },
    });
    return entry;
  });
}

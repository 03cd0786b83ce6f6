import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';

export type WalletOwnerKind = 'user' | 'project';

export interface Wallet {
  readonly id: string;
  readonly ownerKind: WalletOwnerKind;
  readonly ownerId: string;
  readonly currency: string;
}

/** The platform's one currency until prices come in several. */
export const DEFAULT_CURRENCY = 'USD';

interface WalletRow {
  id: string;
  owner_kind: WalletOwnerKind;
  owner_id: string;
  currency: string;
}

const toWallet = (row: WalletRow): Wallet => ({ id: row.id, ownerKind: row.owner_kind, ownerId: row.owner_id, currency: row.currency.trim() });

/** The owner's wallet in `currency`, created on first use (a concurrent creator wins harmlessly). */
export async function ensureWallet(client: pg.ClientBase, ownerKind: WalletOwnerKind, ownerId: string, currency: string): Promise<Wallet> {
  await client.query(
    `INSERT INTO billing.wallets (id, owner_kind, owner_id, currency) VALUES ($1, $2, $3, $4)
     ON CONFLICT (owner_kind, owner_id, currency) DO NOTHING`,
    [uuidv7(), ownerKind, ownerId, currency],
  );
  const found = await findWallet(client, ownerKind, ownerId, currency);
  // ci-allow canonical_error_guard: unreachable once the insert above committed or conflicted
  if (!found) throw new Error('wallet vanished right after it was ensured');
  return found;
}

export async function findWallet(client: pg.ClientBase | pg.Pool, ownerKind: WalletOwnerKind, ownerId: string, currency: string): Promise<Wallet | undefined> {
  const { rows } = await client.query<WalletRow>(
    'SELECT id, owner_kind, owner_id, currency FROM billing.wallets WHERE owner_kind = $1 AND owner_id = $2 AND currency = $3',
    [ownerKind, ownerId, currency],
  );
  return rows[0] && toWallet(rows[0]);
}

export async function walletById(client: pg.ClientBase | pg.Pool, walletId: string): Promise<Wallet | undefined> {
  const { rows } = await client.query<WalletRow>('SELECT id, owner_kind, owner_id, currency FROM billing.wallets WHERE id = $1', [walletId]);
  return rows[0] && toWallet(rows[0]);
}

/**
 * Locks the wallet row for the rest of the transaction: every posting to a wallet holds it, so balance checks and
 * the per-wallet entry chain see one writer at a time. Returns undefined for an unknown wallet.
 */
export async function lockWallet(client: pg.ClientBase, walletId: string): Promise<Wallet | undefined> {
  const { rows } = await client.query<WalletRow>('SELECT id, owner_kind, owner_id, currency FROM billing.wallets WHERE id = $1 FOR UPDATE', [walletId]);
  return rows[0] && toWallet(rows[0]);
}

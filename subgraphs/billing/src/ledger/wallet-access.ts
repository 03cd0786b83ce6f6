import type pg from 'pg';
import { Forbidden, NotFound } from '@gpuaas/errors';
import type { Actor } from '../payments/actor.js';
import { DEFAULT_CURRENCY, ensureWallet, type Wallet } from './wallets.js';

/** Project roles that may see the project's wallet (balance, usage, ledger). */
const BILLING_ROLES = ['owner', 'admin'];

/**
 * The wallet a caller asks about: their personal wallet, or `projectId`'s when their project role may see billing
 * (a stranger to the project gets not_found, like a missing project; a member or viewer gets forbidden). Wallets
 * are created on first use, so a new user reads an empty wallet rather than an error.
 */
export async function callerWallet(pool: pg.Pool, actor: Actor, projectId: string | null | undefined): Promise<Wallet> {
  if (projectId) {
    const { rows } = await pool.query<{ role: string | null }>('SELECT access.project_role_of($1, $2) AS role', [projectId, actor.userId]);
    const role = rows[0]?.role ?? null;
    if (role === null) throw NotFound('Project');
    if (!BILLING_ROLES.includes(role)) throw Forbidden("Your project role may not see the project's billing");
  }
  const client = await pool.connect();
  try {
    return await ensureWallet(client, projectId ? 'project' : 'user', projectId ?? actor.userId, DEFAULT_CURRENCY);
  } finally {
    client.release();
  }
}

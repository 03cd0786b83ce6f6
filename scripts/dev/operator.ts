/**
 * The operator account of a developer's platform (behind `npm start`): without one nobody could grant credit, so a
 * new user's first allocation would answer `402 insufficient_balance`. The account is made with the access domain's
 * own code (createAccount: user + personal project), promoted to the platform admin role and audited as the system,
 * like an operator bootstrap would; its generated password is kept in the gitignored dev data dir and printed.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import pg from 'pg';
import { hashPassword, verifyPassword } from '@gpuaas/auth';
import { recordAudit, withTransaction } from '@gpuaas/db';
import { createAccount } from '../../subgraphs/access/src/services/new-account.js';
import { revokeAllFamilies } from '../../subgraphs/access/src/repositories/refresh-tokens.js';
import { applyAdminChange, findUserByEmail, lockUser, setPasswordHash, type UserRecord } from '../../subgraphs/access/src/repositories/users.js';

export const DEV_OPERATOR_EMAIL = 'admin@gpuaas.local';
const REASON = 'development operator bootstrap (npm start)';

export interface DevOperator {
  readonly email: string;
  readonly userId: string;
  /** Undefined when the account's password was changed after the launcher set it (the stored one no longer works). */
  readonly password: string | undefined;
  /** What this start did to the account. */
  readonly action: 'created' | 'reused' | 'password_reset' | 'password_changed_elsewhere';
  readonly credentialFile: string;
}

interface StoredCredential {
  readonly email: string;
  readonly password: string;
}

async function readStored(file: string): Promise<StoredCredential | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<StoredCredential>;
    return typeof parsed.email === 'string' && typeof parsed.password === 'string' ? { email: parsed.email, password: parsed.password } : undefined;
  } catch {
    return undefined;
  }
}

async function store(file: string, credential: StoredCredential): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(credential, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** 24 random bytes: far beyond the password policy's minimum, never a common password. */
const newPassword = () => randomBytes(24).toString('base64url');

const systemAudit = (client: pg.PoolClient, action: string, userId: string, details: Record<string, unknown>) =>
  recordAudit(client, { domain: 'access', actorKind: 'system', action, targetType: 'user', targetId: userId, details: { ...details, reason: REASON } });

async function promote(client: pg.PoolClient, user: UserRecord): Promise<void> {
  if (user.role === 'admin') return;
  await applyAdminChange(client, user.id, { status: 'active', role: 'admin', suspendedReason: null, bumpTokenVersion: true });
  await systemAudit(client, 'user.role_change', user.id, { before: { status: user.status, role: user.role }, after: { status: 'active', role: 'admin' } });
}

/**
 * Makes sure the operator account exists, is an active admin, and that its password is known: kept from an earlier
 * start when it still verifies; set anew (ending the account's sessions, audited) when the stored one is missing,
 * e.g. after `.data/` was removed; left alone when someone changed it on purpose.
 */
export async function ensureDevOperator(databaseUrl: string, credentialFile: string): Promise<DevOperator> {
  const stored = await readStored(credentialFile);
  const email = stored?.email ?? DEV_OPERATOR_EMAIL;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const outcome = await withTransaction(pool, async (client) => {
      const found = await findUserByEmail(client, email);
      const existing = found ? await lockUser(client, found.id) : null;
      if (!existing) {
        const password = stored?.password ?? newPassword();
        const userId = await createAccount(client, { email, displayName: 'Operator', passwordHash: await hashPassword(password), emailVerified: true });
        await promote(client, (await lockUser(client, userId)) as UserRecord);
        return { userId, password, action: 'created' as const };
      }
      await promote(client, existing);
      if (stored && existing.passwordHash && (await verifyPassword(stored.password, existing.passwordHash))) {
        return { userId: existing.id, password: stored.password, action: 'reused' as const };
      }
      if (stored) return { userId: existing.id, password: undefined, action: 'password_changed_elsewhere' as const };
      const password = newPassword();
      await setPasswordHash(client, existing.id, await hashPassword(password), { bumpTokenVersion: true });
      const revoked = await revokeAllFamilies(client, existing.id, 'password_reset');
      await systemAudit(client, 'user.password_reset', existing.id, { revoked_sessions: revoked.liveFamilies });
      return { userId: existing.id, password, action: 'password_reset' as const };
    });
    if (outcome.password !== undefined && outcome.action !== 'reused') await store(credentialFile, { email, password: outcome.password });
    return { email, credentialFile, ...outcome };
  } finally {
    await pool.end();
  }
}

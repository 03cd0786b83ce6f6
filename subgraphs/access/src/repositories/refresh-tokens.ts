import type { Db } from './db.js';

export type RefreshRevocationReason = 'logout' | 'reuse_detected' | 'user_suspended' | 'password_reset' | 'admin_revoked';

export interface RefreshTokenRecord {
  readonly id: string;
  readonly userId: string;
  readonly familyId: string;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
  readonly revokedAt: Date | null;
}

interface Row {
  id: string;
  user_id: string;
  family_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

const toRecord = (row: Row): RefreshTokenRecord => ({
  id: row.id,
  userId: row.user_id,
  familyId: row.family_id,
  expiresAt: row.expires_at,
  usedAt: row.used_at,
  revokedAt: row.revoked_at,
});

export interface NewRefreshToken {
  readonly id: string;
  readonly familyId: string;
  readonly parentId: string | null;
  readonly tokenHash: string;
  readonly expiresAt: Date;
}

export async function insertRefreshToken(db: Db, userId: string, token: NewRefreshToken): Promise<void> {
  await db.query(
    `INSERT INTO access.refresh_tokens (id, user_id, family_id, parent_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [token.id, userId, token.familyId, token.parentId, token.tokenHash, token.expiresAt],
  );
}

/**
 * The presented token, locked: two concurrent refreshes with the same token serialise here, and the second sees
 * `used_at` set (reuse). The owner is not known before the lookup: the hash of a 256-bit secret is the key.
 */
export async function lockRefreshTokenByHash(db: Db, tokenHash: string): Promise<RefreshTokenRecord | null> {
  const { rows } = await db.query<Row>(
    'SELECT id, user_id, family_id, expires_at, used_at, revoked_at FROM access.refresh_tokens WHERE token_hash = $1 FOR UPDATE',
    [tokenHash],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function findRefreshTokenByHash(db: Db, userId: string, tokenHash: string): Promise<RefreshTokenRecord | null> {
  const { rows } = await db.query<Row>(
    'SELECT id, user_id, family_id, expires_at, used_at, revoked_at FROM access.refresh_tokens WHERE user_id = $1 AND token_hash = $2',
    [userId, tokenHash],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function markRefreshTokenUsed(db: Db, userId: string, tokenId: string): Promise<void> {
  await db.query('UPDATE access.refresh_tokens SET used_at = now() WHERE user_id = $1 AND id = $2', [userId, tokenId]);
}

/** Revokes every still unrevoked token of one family; answers whether anything was left to revoke. */
export async function revokeFamily(db: Db, userId: string, familyId: string, reason: RefreshRevocationReason): Promise<boolean> {
  const result = await db.query(
    `UPDATE access.refresh_tokens SET revoked_at = now(), revoked_reason = $3
      WHERE user_id = $1 AND family_id = $2 AND revoked_at IS NULL`,
    [userId, familyId, reason],
  );
  return (result.rowCount ?? 0) > 0;
}

export interface RevokedFamilies {
  /** Every family that had an unrevoked token (their sessions get a Redis deny mark). */
  readonly familyIds: string[];
  /** Families that were still usable: an unused, unexpired token remained. */
  readonly liveFamilies: number;
}

/** Revokes all the user's families, optionally sparing one (the caller's own session on a password change). */
export async function revokeAllFamilies(
  db: Db,
  userId: string,
  reason: RefreshRevocationReason,
  options: { exceptFamilyId?: string | null } = {},
): Promise<RevokedFamilies> {
  const { rows } = await db.query<{ family_id: string; live: boolean }>(
    `UPDATE access.refresh_tokens SET revoked_at = now(), revoked_reason = $2
      WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR family_id <> $3::uuid)
      RETURNING family_id, (used_at IS NULL AND expires_at > now()) AS live`,
    [userId, reason, options.exceptFamilyId ?? null],
  );
  const familyIds = [...new Set(rows.map((row) => row.family_id))];
  const liveFamilies = new Set(rows.filter((row) => row.live).map((row) => row.family_id)).size;
  return { familyIds, liveFamilies };
}

import type { Db } from './db.js';

export interface PasswordResetRecord {
  readonly id: string;
  readonly userId: string;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
}

/** A new request makes the earlier, unused links worthless. */
export async function deleteUnusedResetTokens(db: Db, userId: string): Promise<void> {
  await db.query('DELETE FROM access.password_reset_tokens WHERE user_id = $1 AND used_at IS NULL', [userId]);
}

export async function insertResetToken(db: Db, userId: string, token: { id: string; tokenHash: string; expiresAt: Date }): Promise<void> {
  await db.query('INSERT INTO access.password_reset_tokens (id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)', [
    token.id,
    userId,
    token.tokenHash,
    token.expiresAt,
  ]);
}

/** Looked up by the hash of the secret: the owner is what the lookup finds out. */
export async function findUsableResetToken(db: Db, tokenHash: string): Promise<PasswordResetRecord | null> {
  const { rows } = await db.query<{ id: string; user_id: string; expires_at: Date; used_at: Date | null }>(
    `SELECT id, user_id, expires_at, used_at FROM access.password_reset_tokens
      WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()`,
    [tokenHash],
  );
  const row = rows[0];
  return row ? { id: row.id, userId: row.user_id, expiresAt: row.expires_at, usedAt: row.used_at } : null;
}

/** Marks the token used if it still is usable; the one-use guarantee is this conditional UPDATE. */
export async function consumeResetToken(db: Db, userId: string, tokenId: string): Promise<boolean> {
  const result = await db.query(
    `UPDATE access.password_reset_tokens SET used_at = now()
      WHERE user_id = $1 AND id = $2 AND used_at IS NULL AND expires_at > now()`,
    [userId, tokenId],
  );
  return (result.rowCount ?? 0) === 1;
}

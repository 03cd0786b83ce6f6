import type { Db } from './db.js';

export async function findOidcIdentity(db: Db, provider: string, subject: string): Promise<{ id: string; userId: string } | null> {
  const { rows } = await db.query<{ id: string; user_id: string }>(
    'SELECT id, user_id FROM access.oidc_identities WHERE provider = $1 AND subject = $2',
    [provider, subject],
  );
  const row = rows[0];
  return row ? { id: row.id, userId: row.user_id } : null;
}

export async function insertOidcIdentity(
  db: Db,
  userId: string,
  identity: { id: string; provider: string; subject: string; email: string | null },
): Promise<void> {
  await db.query(
    'INSERT INTO access.oidc_identities (id, user_id, provider, subject, email, last_login_at) VALUES ($1, $2, $3, $4, $5, now())',
    [identity.id, userId, identity.provider, identity.subject, identity.email],
  );
}

export async function touchOidcIdentity(db: Db, userId: string, identityId: string, email: string | null): Promise<void> {
  await db.query('UPDATE access.oidc_identities SET last_login_at = now(), email = coalesce($3, email) WHERE user_id = $1 AND id = $2', [
    userId,
    identityId,
    email,
  ]);
}

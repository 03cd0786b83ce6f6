import type { PublicJwk, SigningAlgorithm } from '@gpuaas/auth';
import type { Db } from './db.js';

export interface StoredSigningKey {
  readonly id: string;
  readonly kid: string;
  readonly algorithm: SigningAlgorithm;
  readonly publicJwk: PublicJwk;
  readonly privateKeyPem: string;
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
}

interface Row {
  id: string;
  kid: string;
  algorithm: SigningAlgorithm;
  public_jwk: PublicJwk;
  private_key_pem: string;
  created_at: Date;
  retired_at: Date | null;
}

/** Keys that still sign or verify, newest first; the first one signs. */
export async function listUnretiredSigningKeys(db: Db): Promise<StoredSigningKey[]> {
  const { rows } = await db.query<Row>(
    `SELECT id, kid, algorithm, public_jwk, private_key_pem, created_at, retired_at
       FROM access.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, id DESC`,
  );
  return rows.map((row) => ({
    id: row.id,
    kid: row.kid,
    algorithm: row.algorithm,
    publicJwk: row.public_jwk,
    privateKeyPem: row.private_key_pem,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  }));
}

/** Verification keys for the JWKS: every key not retired, plus retired ones whose tokens may still be live. */
export async function listVerificationKeys(db: Db, retiredWithinSeconds: number): Promise<{ publicJwk: PublicJwk; retiredAt: Date | null }[]> {
  const { rows } = await db.query<{ public_jwk: PublicJwk; retired_at: Date | null }>(
    `SELECT public_jwk, retired_at FROM access.signing_keys
      WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
      ORDER BY created_at DESC, id DESC`,
    [retiredWithinSeconds],
  );
  return rows.map((row) => ({ publicJwk: row.public_jwk, retiredAt: row.retired_at }));
}

export async function insertSigningKey(
  db: Db,
  key: { id: string; kid: string; algorithm: SigningAlgorithm; publicJwk: PublicJwk; privateKeyPem: string },
): Promise<void> {
  await db.query('INSERT INTO access.signing_keys (id, kid, algorithm, public_jwk, private_key_pem) VALUES ($1, $2, $3, $4::jsonb, $5)', [
    key.id,
    key.kid,
    key.algorithm,
    JSON.stringify(key.publicJwk),
    key.privateKeyPem,
  ]);
}

/** Serialises key creation across replicas starting at once (released at COMMIT/ROLLBACK). */
export async function lockSigningKeyCreation(db: Db): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock(hashtext('access.signing_keys'))");
}

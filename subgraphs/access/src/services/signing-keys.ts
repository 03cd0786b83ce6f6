import { createSigningKey, importSigningKey, publishJwks, type PublishedJwks, type SigningKey } from '@gpuaas/auth';
import { uuidv7, withTransaction } from '@gpuaas/db';
import type pg from 'pg';
import {
  insertSigningKey,
  listUnretiredSigningKeys,
  listVerificationKeys,
  lockSigningKeyCreation,
} from '../repositories/signing-keys.js';

export interface SigningKeyStore {
  /** The key new access tokens are signed with (the newest one not retired). */
  current(): SigningKey;
  /** The `/.well-known/jwks.json` body, read from the table so keys another replica added show up. */
  jwks(): Promise<PublishedJwks>;
}

/**
 * Loads the newest unretired signing key, creating the first one when the table is empty. Creation runs under a
 * transaction-scoped advisory lock and re-reads inside it, so replicas starting together end up with one key.
 */
export async function loadSigningKeys(pool: pg.Pool, options: { accessTokenTtlSeconds: number }): Promise<SigningKeyStore> {
  const stored = await withTransaction(pool, async (client) => {
    const existing = await listUnretiredSigningKeys(client);
    if (existing[0]) return existing[0];
    await lockSigningKeyCreation(client);
    const afterLock = await listUnretiredSigningKeys(client);
    if (afterLock[0]) return afterLock[0];
    const key = await createSigningKey();
    const row = { id: uuidv7(), kid: key.kid, algorithm: key.algorithm, publicJwk: key.publicJwk, privateKeyPem: key.privateKeyPem };
    await insertSigningKey(client, row);
    return row;
  });
  const signing = await importSigningKey({ kid: stored.kid, algorithm: stored.algorithm, privateKeyPem: stored.privateKeyPem });
  const ttl = options.accessTokenTtlSeconds;

  return {
    current: () => signing,
    async jwks() {
      const keys = await listVerificationKeys(pool, ttl);
      return publishJwks(keys, { maxTokenTtlSeconds: ttl });
    },
  };
}

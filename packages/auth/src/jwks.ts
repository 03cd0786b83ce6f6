import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import type { PublicJwk } from './signing-keys.js';

/** A verification key and, once a newer key took over signing, when it stopped signing. */
export interface VerificationKey {
  readonly publicJwk: PublicJwk;
  /** When this key stopped signing; it still verifies until every token it signed has expired. */
  readonly retiredAt?: Date | null;
}

export interface KeySetOptions {
  /** The longest access-token lifetime; a retired key verifies for this long after `retiredAt`. Needed when any key is retired. */
  readonly maxTokenTtlSeconds?: number;
  /** Extra grace on top, matching the verifier's clock tolerance. */
  readonly clockToleranceSeconds?: number;
  /** Injected clock for tests. */
  readonly now?: () => Date;
}

/** The `/.well-known/jwks.json` body. */
export interface PublishedJwks {
  readonly keys: PublicJwk[];
}

/** Resolves a token header to its verification key; the form `verifyAccessToken` takes. */
export interface KeyResolver {
  readonly getKey: JWTVerifyGetKey;
}

export interface KeySet extends KeyResolver {
  /** The keys that verify right now (retired ones drop out once their tokens have expired), public members only. */
  publish(): PublishedJwks;
}

function toEntry(key: PublicJwk | VerificationKey): VerificationKey {
  return 'publicJwk' in key ? key : { publicJwk: key };
}

function publicOnly(jwk: PublicJwk): PublicJwk {
  const { kty, kid, alg, use, crv, x, y, n, e } = jwk;
  const members = { kty, kid, alg, use, crv, x, y, n, e };
  return Object.fromEntries(Object.entries(members).filter(([, value]) => value !== undefined)) as unknown as PublicJwk;
}

/**
 * A key set held in memory (the access subgraph's own keys, loaded from `access.signing_keys`). Several keys may
 * verify at once during a rotation; a retired key keeps verifying until `retiredAt + maxTokenTtlSeconds`, decided at
 * verification time so a long-running process drops it without a reload. Tokens without a `kid` never match.
 */
export function localJwks(keys: readonly (PublicJwk | VerificationKey)[], options: KeySetOptions = {}): KeySet {
  const entries = keys.map(toEntry);
  const kids = new Set<string>();
  for (const entry of entries) {
    if (!entry.publicJwk.kid) throw new TypeError('Every verification key needs a kid');
    if (kids.has(entry.publicJwk.kid)) throw new TypeError(`Duplicate kid ${entry.publicJwk.kid} in the key set`);
    kids.add(entry.publicJwk.kid);
    if (entry.retiredAt && options.maxTokenTtlSeconds === undefined) {
      throw new TypeError('A key set with retired keys needs maxTokenTtlSeconds to know how long they still verify');
    }
  }
  const graceMs = ((options.maxTokenTtlSeconds ?? 0) + (options.clockToleranceSeconds ?? 0)) * 1000;
  const clock = options.now ?? (() => new Date());
  const stillVerifies = (entry: VerificationKey) => !entry.retiredAt || clock().getTime() < entry.retiredAt.getTime() + graceMs;

  const byKid = new Map(entries.map((entry) => [entry.publicJwk.kid, entry]));
  const resolver = createLocalJWKSet({ keys: entries.map((entry) => publicOnly(entry.publicJwk)) });

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const entry = header.kid === undefined ? undefined : byKid.get(header.kid);
    if (!entry || !stillVerifies(entry)) throw new errors.JWKSNoMatchingKey();
    return resolver(header, token);
  };

  return {
    getKey,
    publish: () => ({ keys: entries.filter(stillVerifies).map((entry) => publicOnly(entry.publicJwk)) }),
  };
}

/** The JWKS document for a set of keys, for the `/.well-known/jwks.json` route. */
export function publishJwks(keys: readonly (PublicJwk | VerificationKey)[], options: KeySetOptions = {}): PublishedJwks {
  return localJwks(keys, options).publish();
}

export interface RemoteKeySetOptions {
  /** Abort a JWKS fetch after this long (default 5 s). */
  readonly timeoutMs?: number;
  /** An unknown kid refetches the set at most this often (default 30 s), so rotations are picked up quickly. */
  readonly cooldownMs?: number;
  /** Refetch at least this often even when every kid is known (default 10 min). */
  readonly cacheMaxAgeMs?: number;
}

/** The gateway's view: the access subgraph's `/.well-known/jwks.json`, cached and refetched on an unknown kid. */
export function remoteJwks(url: string | URL, options: RemoteKeySetOptions = {}): KeyResolver {
  const resolver = createRemoteJWKSet(new URL(url), {
    timeoutDuration: options.timeoutMs ?? 5_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
  });
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.kid === undefined) throw new errors.JWKSNoMatchingKey();
    return resolver(header, token);
  };
  return { getKey };
}

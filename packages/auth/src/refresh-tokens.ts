import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '@gpuaas/errors';

/** Prefixes make a leaked token recognisable (secret scanners, logs) and tell the two kinds apart. */
export const REFRESH_TOKEN_PREFIX = 'rt_';
export const PASSWORD_RESET_TOKEN_PREFIX = 'prt_';

const SECRET_BYTES = 32;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface OpaqueToken {
  /** Give this to the client once; never store it. */
  readonly token: string;
  /** Store this (`token_hash`) and look tokens up by it. */
  readonly hash: string;
}

/** SHA-256 of the whole token, hex. Plain SHA-256 suffices: the token holds 256 random bits, so there is nothing to brute-force. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh `<prefix><256-bit random, base64url>` token and its hash. */
export function generateOpaqueToken(prefix: string): OpaqueToken {
  const token = `${prefix}${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

export function generateRefreshToken(): OpaqueToken {
  return generateOpaqueToken(REFRESH_TOKEN_PREFIX);
}

export function generatePasswordResetToken(): OpaqueToken {
  return generateOpaqueToken(PASSWORD_RESET_TOKEN_PREFIX);
}

/** Cheap shape check before any lookup, so garbage never reaches the database. */
export function hasTokenShape(token: string, prefix: string): boolean {
  return typeof token === 'string' && token.startsWith(prefix) && SECRET_PATTERN.test(token.slice(prefix.length));
}

/** Compares two stored hashes without an early exit. */
export function tokenHashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** What the access subgraph read for the presented token's hash (`access.refresh_tokens`). */
export interface RefreshTokenRecord {
  readonly familyId: string;
  readonly expiresAt: Date;
  /** Set when this token was exchanged for a child; a second use is reuse. */
  readonly usedAt: Date | null;
  /** Set on logout, reuse detection, suspension, password reset or admin revocation (whole family). */
  readonly revokedAt: Date | null;
}

export type RefreshDecision =
  | { readonly action: 'rotate'; readonly familyId: string; readonly childExpiresAt: Date }
  | { readonly action: 'reject_reused_revoke_family'; readonly familyId: string }
  | { readonly action: 'reject_expired' }
  | { readonly action: 'reject_revoked' }
  | { readonly action: 'reject_unknown' };

export interface RefreshPolicy {
  readonly now: Date;
  /** Sliding lifetime of a family since its last rotation (`refresh_token_ttl_days` in seconds). */
  readonly ttlSeconds: number;
}

/**
 * Decides what to do with a presented refresh token. Order matters: a revoked family stays revoked (nothing
 * more to do); a used token is reuse — likely theft — even if it has expired since, so the family dies; only a
 * live, unused, unexpired token rotates. The caller marks it used and inserts the child in one transaction
 * (the `UNIQUE (parent_id)` constraint makes two concurrent rotations impossible).
 */
export function decideRefresh(record: RefreshTokenRecord | null | undefined, policy: RefreshPolicy): RefreshDecision {
  if (!record) return { action: 'reject_unknown' };
  if (record.revokedAt !== null) return { action: 'reject_revoked' };
  if (record.usedAt !== null) return { action: 'reject_reused_revoke_family', familyId: record.familyId };
  if (record.expiresAt.getTime() <= policy.now.getTime()) return { action: 'reject_expired' };
  return {
    action: 'rotate',
    familyId: record.familyId,
    childExpiresAt: new Date(policy.now.getTime() + policy.ttlSeconds * 1000),
  };
}

/** The catalog error a rejecting decision answers with (the contract's `refreshToken` operation). */
export function refreshRejectionError(decision: Exclude<RefreshDecision, { action: 'rotate' }>): AppError {
  switch (decision.action) {
    case 'reject_reused_revoke_family':
      return new AppError('refresh_token_reused', 'The refresh token was already used; every session of this login has been revoked', {
        reason: 'reused',
      });
    case 'reject_expired':
      return new AppError('unauthenticated', 'The refresh token has expired', { reason: 'expired' });
    case 'reject_revoked':
      return new AppError('unauthenticated', 'The refresh token has been revoked', { reason: 'revoked' });
    case 'reject_unknown':
      return new AppError('unauthenticated', 'The refresh token is invalid', { reason: 'unknown' });
  }
}

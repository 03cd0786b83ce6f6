import { describe, expect, it } from 'vitest';
import {
  decideRefresh,
  generatePasswordResetToken,
  generateRefreshToken,
  hashToken,
  hasTokenShape,
  PASSWORD_RESET_TOKEN_PREFIX,
  REFRESH_TOKEN_PREFIX,
  refreshRejectionError,
  tokenHashesEqual,
  type RefreshTokenRecord,
} from '../src/index.js';

const now = new Date('2026-11-27T12:00:00Z');
const policy = { now, ttlSeconds: 30 * 86_400 };
const live: RefreshTokenRecord = {
  familyId: '01936f5e-9a10-7c3e-8d21-5a6b7c8d9e10',
  expiresAt: new Date(now.getTime() + 3_600_000),
  usedAt: null,
  revokedAt: null,
};
const earlier = new Date(now.getTime() - 60_000);

describe('opaque tokens', () => {
  it('are prefixed, carry 256 random bits as base64url, and are never repeated', () => {
    const tokens = Array.from({ length: 50 }, () => generateRefreshToken().token);
    for (const token of tokens) {
      expect(token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token.slice(3), 'base64url')).toHaveLength(32);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(generatePasswordResetToken().token.startsWith(PASSWORD_RESET_TOKEN_PREFIX)).toBe(true);
  });

  it('are stored as their SHA-256 and found again by hashing what the client presents', () => {
    const { token, hash } = generateRefreshToken();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(token.slice(3));
    expect(hashToken(token)).toBe(hash);
    expect(tokenHashesEqual(hashToken(token), hash)).toBe(true);
    expect(tokenHashesEqual(hashToken(`${token}x`), hash)).toBe(false);
    expect(tokenHashesEqual('short', hash)).toBe(false);
    // Known vector, so the stored format cannot drift silently.
    expect(hashToken('rt_example')).toBe('5a86931876cd9db03d2f35ea5cd30cd6b32d7b002efadf0f7d55712eee93a96d');
  });

  it('are recognised by shape before any lookup', () => {
    const { token } = generateRefreshToken();
    expect(hasTokenShape(token, REFRESH_TOKEN_PREFIX)).toBe(true);
    expect(hasTokenShape(token, PASSWORD_RESET_TOKEN_PREFIX)).toBe(false);
    expect(hasTokenShape(`${token}A`, REFRESH_TOKEN_PREFIX)).toBe(false);
    expect(hasTokenShape('rt_' + 'A'.repeat(42) + '!', REFRESH_TOKEN_PREFIX)).toBe(false);
  });
});

describe('refresh decision', () => {
  it('rotates a live, unused, unexpired token and slides the family lifetime', () => {
    expect(decideRefresh(live, policy)).toEqual({
      action: 'rotate',
      familyId: live.familyId,
      childExpiresAt: new Date('2026-12-27T12:00:00Z'),
    });
  });

  it('treats a second use as theft and revokes the whole family', () => {
    expect(decideRefresh({ ...live, usedAt: earlier }, policy)).toEqual({ action: 'reject_reused_revoke_family', familyId: live.familyId });
  });

  it('still revokes the family when a used token comes back after it expired', () => {
    expect(decideRefresh({ ...live, usedAt: earlier, expiresAt: earlier }, policy).action).toBe('reject_reused_revoke_family');
  });

  it('rejects a token of a revoked family without revoking again', () => {
    expect(decideRefresh({ ...live, revokedAt: earlier }, policy)).toEqual({ action: 'reject_revoked' });
    expect(decideRefresh({ ...live, revokedAt: earlier, usedAt: earlier }, policy)).toEqual({ action: 'reject_revoked' });
  });

  it('rejects an expired token, expiry instant included', () => {
    expect(decideRefresh({ ...live, expiresAt: now }, policy)).toEqual({ action: 'reject_expired' });
    expect(decideRefresh({ ...live, expiresAt: new Date(now.getTime() + 1) }, policy).action).toBe('rotate');
  });

  it('rejects a token that matches no record', () => {
    expect(decideRefresh(null, policy)).toEqual({ action: 'reject_unknown' });
    expect(decideRefresh(undefined, policy)).toEqual({ action: 'reject_unknown' });
  });

  it('maps each rejection onto the contract error', () => {
    expect(refreshRejectionError({ action: 'reject_reused_revoke_family', familyId: 'f' })).toMatchObject({ code: 'refresh_token_reused', httpStatus: 401 });
    expect(refreshRejectionError({ action: 'reject_expired' })).toMatchObject({ code: 'unauthenticated', details: { reason: 'expired' } });
    expect(refreshRejectionError({ action: 'reject_revoked' })).toMatchObject({ code: 'unauthenticated', details: { reason: 'revoked' } });
    expect(refreshRejectionError({ action: 'reject_unknown' })).toMatchObject({ code: 'unauthenticated', details: { reason: 'unknown' } });
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { createTokenRevocationStore, type TokenRevocationStore } from '../src/index.js';

let redis: TestRedis;
let store: TokenRevocationStore;
const prefix = 'auth:';

beforeAll(async () => {
  redis = await createTestRedis();
  store = createTokenRevocationStore(redis, prefix);
});

afterAll(async () => {
  await redis?.cleanup();
});

const token = (overrides: Partial<{ userId: string; tokenVersion: number; sessionId: string }> = {}) => ({
  userId: randomUUID(),
  tokenVersion: 0,
  sessionId: randomUUID(),
  ...overrides,
});

describe('token revocation', () => {
  it('lets tokens through while nothing is revoked', async () => {
    const claims = token();
    expect(await store.isRevoked(claims.userId, 0)).toBe(false);
    expect(await store.isSessionRevoked(claims.sessionId)).toBe(false);
    expect(await store.check(claims)).toEqual({ revoked: false });
    await expect(store.assertNotRevoked(claims)).resolves.toBeUndefined();
  });

  it('stops every older token of a user at once, but not tokens issued after', async () => {
    const userId = randomUUID();
    await store.markUserTokensRevokedBefore(userId, 5, 900);
    expect(await store.isRevoked(userId, 4)).toBe(true);
    expect(await store.isRevoked(userId, 0)).toBe(true);
    expect(await store.isRevoked(userId, 5)).toBe(false);
    expect(await store.isRevoked(randomUUID(), 0)).toBe(false);
    expect(await store.check(token({ userId, tokenVersion: 4 }))).toEqual({ revoked: true, reason: 'tokens_revoked' });
  });

  it('answers account_suspended for a suspended user', async () => {
    const userId = randomUUID();
    await store.markUserTokensRevokedBefore(userId, 1, 900, 'account_suspended');
    expect(await store.check(token({ userId, tokenVersion: 0 }))).toEqual({ revoked: true, reason: 'account_suspended' });
    const error = await store.assertNotRevoked(token({ userId, tokenVersion: 0 })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('account_suspended');
  });

  it('never lowers the mark when an older revocation arrives late', async () => {
    const userId = randomUUID();
    await store.markUserTokensRevokedBefore(userId, 7, 900);
    await store.markUserTokensRevokedBefore(userId, 3, 900);
    expect(await store.isRevoked(userId, 6)).toBe(true);
    expect(await redis.get(`${prefix}user-revoked-before:${userId}`)).toBe('7');
  });

  it('keeps the mark only as long as tokens can live, extending it when repeated', async () => {
    const userId = randomUUID();
    const key = `${prefix}user-revoked-before:${userId}`;
    await store.markUserTokensRevokedBefore(userId, 2, 60);
    expect(await redis.ttl(key)).toBeGreaterThan(50);
    expect(await redis.ttl(key)).toBeLessThanOrEqual(60);
    await store.markUserTokensRevokedBefore(userId, 2, 900, 'account_suspended');
    expect(await redis.ttl(key)).toBeGreaterThan(800);
    expect(await store.check(token({ userId, tokenVersion: 1 }))).toEqual({ revoked: true, reason: 'account_suspended' });
  });

  it('stops the access tokens of a logged-out session at once, and only those', async () => {
    const userId = randomUUID();
    const loggedOut = token({ userId });
    const otherSession = token({ userId });
    await store.revokeSession(loggedOut.sessionId, 900);
    expect(await store.isSessionRevoked(loggedOut.sessionId)).toBe(true);
    expect(await store.check(loggedOut)).toEqual({ revoked: true, reason: 'session_revoked' });
    expect(await store.check(otherSession)).toEqual({ revoked: false });
    const error = await store.assertNotRevoked(loggedOut).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'unauthenticated', details: { reason: 'session_revoked' } });
    expect(await redis.ttl(`${prefix}session-revoked:${loggedOut.sessionId}`)).toBeGreaterThan(800);
  });

  it('revokes several sessions in one round trip (log out everywhere)', async () => {
    const sessions = [randomUUID(), randomUUID(), randomUUID()];
    await store.revokeSessions(sessions, 900);
    for (const sessionId of sessions) expect(await store.isSessionRevoked(sessionId)).toBe(true);
    await expect(store.revokeSessions([], 900)).resolves.toBeUndefined();
  });

  it('keeps stores with different prefixes apart', async () => {
    const other = createTokenRevocationStore(redis, 'other-auth:');
    const claims = token();
    await store.revokeSession(claims.sessionId, 900);
    expect(await other.isSessionRevoked(claims.sessionId)).toBe(false);
  });

  it('refuses nonsensical input instead of writing it', async () => {
    await expect(store.markUserTokensRevokedBefore('', 1, 900)).rejects.toThrow(TypeError);
    await expect(store.markUserTokensRevokedBefore('u', -1, 900)).rejects.toThrow(TypeError);
    await expect(store.revokeSession('s', 0)).rejects.toThrow(TypeError);
  });
});

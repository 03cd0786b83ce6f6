import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { createSigningKey, createTokenRevocationStore, issueAccessToken, localJwks, type KeyResolver, type SigningKey, type TokenRevocationStore } from '@gpuaas/auth';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { createCallerAuthenticator } from '../src/index.js';
import { testRedisUrl } from './support/stack.js';

let redis: TestRedis;
let revocation: TokenRevocationStore;
let key: SigningKey;

beforeAll(async () => {
  redis = await createTestRedis({ url: testRedisUrl });
  revocation = createTokenRevocationStore(redis, 'auth:');
  key = await createSigningKey();
});

afterAll(async () => {
  await redis?.cleanup();
});

/** The key set, counting how often a signature had to be checked. */
function countingKeys(): KeyResolver & { lookups: number } {
  const keys = localJwks([key.publicJwk]);
  const counted = { lookups: 0, getKey: (...args: Parameters<KeyResolver['getKey']>) => (counted.lookups++, keys.getKey(...args)) };
  return counted;
}

const t0 = Date.parse('2026-11-27T12:00:00Z');

async function tokenFor(userId: string, sessionId: string, ttlSeconds = 900) {
  const issued = await issueAccessToken({ key, userId, role: 'user', tokenVersion: 1, sessionId, ttlSeconds, issuer: 'gpuaas-access', audience: 'gpuaas-api', now: new Date(t0) });
  return `Bearer ${issued.token}`;
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('caller authentication', () => {
  it('checks a token signature once and trusts it for a minute, while expiry and revocation are checked every time', async () => {
    let clock = t0;
    const keys = countingKeys();
    const authenticate = createCallerAuthenticator({ keys, revocation, issuer: 'gpuaas-access', audience: 'gpuaas-api', now: () => clock });
    const authorization = await tokenFor('user-cache', 'session-cache', 120);
    const request = { authorization, correlationId: 'corr-cache', ip: '192.0.2.1' };

    await expect(authenticate(request)).resolves.toMatchObject({ userId: 'user-cache', sessionId: 'session-cache', ip: '192.0.2.1' });
    clock += 30_000;
    await authenticate(request);
    expect(keys.lookups).toBe(1);

    clock += 31_000;
    await authenticate(request);
    expect(keys.lookups).toBe(2);

    clock = t0 + 120_000;
    expect((await refusal(authenticate(request))).details).toEqual({ reason: 'expired' });

    const revoked = { authorization: await tokenFor('user-cache', 'session-revoked'), correlationId: 'corr-revoked', ip: undefined };
    clock = t0;
    await authenticate(revoked);
    await revocation.revokeSession('session-revoked', 900);
    expect((await refusal(authenticate(revoked))).details).toEqual({ reason: 'session_revoked' });
  });

  it('remembers no more tokens than its capacity, forgetting the oldest first', async () => {
    const keys = countingKeys();
    const authenticate = createCallerAuthenticator({ keys, revocation, issuer: 'gpuaas-access', audience: 'gpuaas-api', now: () => t0, verifiedCacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => tokenFor(`user-${id}`, `session-${id}`)));
    for (const authorization of [a, b, c, c, b]) await authenticate({ authorization: authorization!, correlationId: 'corr', ip: undefined });
    expect(keys.lookups).toBe(3);
    await authenticate({ authorization: a!, correlationId: 'corr', ip: undefined });
    expect(keys.lookups).toBe(4);
  });

  it('does not remember refused tokens', async () => {
    const keys = countingKeys();
    const authenticate = createCallerAuthenticator({ keys, revocation, issuer: 'gpuaas-other', audience: 'gpuaas-api', now: () => t0 });
    const authorization = await tokenFor('user-refused', 'session-refused');
    for (let attempt = 0; attempt < 2; attempt++) {
      expect((await refusal(authenticate({ authorization, correlationId: 'corr', ip: undefined }))).details).toEqual({ reason: 'wrong_issuer' });
    }
    expect(keys.lookups).toBe(2);
  });
});

import { createHmac } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import {
  anonymousIdentity,
  GATEWAY_IDENTITY_HEADER,
  identityKey,
  readGatewayIdentity,
  signIdentity,
  verifyIdentity,
  type AuthenticatedIdentity,
} from '../src/index.js';

const secret = 'a-gateway-secret-that-is-long-enough-123';
const t0 = new Date('2026-11-27T12:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const caller: AuthenticatedIdentity = {
  userId: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e0f',
  role: 'admin',
  sessionId: '01936f5e-9a10-7c3e-8d21-5a6b7c8d9e10',
  tokenVersion: 4,
  correlationId: 'corr-123',
};

async function reasonOf(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('unauthenticated');
  expect((error as AppError).message).toBe('The gateway identity assertion is invalid');
  return (error as AppError).details?.reason;
}

describe('gateway identity assertion', () => {
  it('carries the verified caller to subgraphs as a compact HS256 JWT', async () => {
    const assertion = await signIdentity(caller, { secret, now: t0 });
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'HS256' });
    expect(decodeJwt(assertion)).toEqual({
      sub: caller.userId,
      role: 'admin',
      sid: caller.sessionId,
      tv: 4,
      cid: 'corr-123',
      iss: 'gpuaas-gateway',
      aud: 'gpuaas-subgraphs',
      iat: t0.getTime() / 1000,
      exp: t0.getTime() / 1000 + 60,
    });
    await expect(verifyIdentity(assertion, { secret, now: at(30) })).resolves.toEqual(caller);
  });

  it('marks anonymous callers so a subgraph can tell them from direct calls', async () => {
    const assertion = await signIdentity(anonymousIdentity('corr-anon'), { secret, now: t0 });
    expect(decodeJwt(assertion).sub).toBeUndefined();
    await expect(readGatewayIdentity(assertion, { secret, now: t0 })).resolves.toEqual({
      userId: null,
      role: null,
      sessionId: null,
      tokenVersion: null,
      correlationId: 'corr-anon',
    });
    await expect(readGatewayIdentity(undefined, { secret })).resolves.toBeNull();
  });

  it('carries the client IP when the gateway knows it, for callers with and without a token', async () => {
    const withIp = await signIdentity({ ...caller, ip: '203.0.113.7' }, { secret, now: t0 });
    expect(decodeJwt(withIp).ip).toBe('203.0.113.7');
    await expect(verifyIdentity(withIp, { secret, now: t0 })).resolves.toEqual({ ...caller, ip: '203.0.113.7' });

    const anonymous = await signIdentity(anonymousIdentity('corr-anon', '2001:db8::1'), { secret, now: t0 });
    await expect(verifyIdentity(anonymous, { secret, now: t0 })).resolves.toEqual({ ...anonymousIdentity('corr-anon'), ip: '2001:db8::1' });

    const withoutIp = await verifyIdentity(await signIdentity(caller, { secret, now: t0 }), { secret, now: t0 });
    expect('ip' in withoutIp).toBe(false);
  });

  it('refuses an ip claim that is not a short string', async () => {
    await expect(signIdentity({ ...caller, ip: '' }, { secret })).rejects.toThrow(TypeError);
    const key = identityKey(secret);
    const numericIp = await new SignJWT({ cid: 'c', ip: 7 }).setProtectedHeader({ alg: 'HS256' }).setIssuer('gpuaas-gateway').setAudience('gpuaas-subgraphs').setIssuedAt(t0).setExpirationTime(at(60)).sign(key);
    expect(await reasonOf(verifyIdentity(numericIp, { secret, now: t0 }))).toBe('invalid_claims');
  });

  it('names the header it travels in', () => {
    expect(GATEWAY_IDENTITY_HEADER).toBe('X-Gateway-Identity');
  });

  it('expires after 60 seconds', async () => {
    const assertion = await signIdentity(caller, { secret, now: t0 });
    await expect(verifyIdentity(assertion, { secret, now: at(64), clockToleranceSeconds: 5 })).resolves.toBeDefined();
    expect(await reasonOf(verifyIdentity(assertion, { secret, now: at(66), clockToleranceSeconds: 5 }))).toBe('expired');
  });

  it('refuses an assertion made with another secret or altered on the way', async () => {
    const forged = await signIdentity(caller, { secret: 'another-secret-that-is-also-long-enough', now: t0 });
    expect(await reasonOf(verifyIdentity(forged, { secret, now: t0 }))).toBe('bad_signature');

    const [header, , signature] = (await signIdentity({ ...caller, role: 'user' }, { secret, now: t0 })).split('.');
    const escalated = Buffer.from(JSON.stringify({ ...decodeJwt(forged), role: 'admin' })).toString('base64url');
    expect(await reasonOf(verifyIdentity(`${header}.${escalated}.${signature}`, { secret, now: t0 }))).toBe('bad_signature');
  });

  it('refuses a token meant for someone else, even when signed with the secret', async () => {
    const key = identityKey(secret);
    const wrongAudience = await new SignJWT({ cid: 'c' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('gpuaas-gateway').setAudience('gpuaas').setIssuedAt(t0).setExpirationTime(at(60)).sign(key);
    expect(await reasonOf(verifyIdentity(wrongAudience, { secret, now: t0 }))).toBe('invalid_claims');
    const noExpiry = await new SignJWT({ cid: 'c' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('gpuaas-gateway').setAudience('gpuaas-subgraphs').setIssuedAt(t0).sign(key);
    expect(await reasonOf(verifyIdentity(noExpiry, { secret, now: t0 }))).toBe('invalid_claims');
    const half = await new SignJWT({ sub: 'u', cid: 'c' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('gpuaas-gateway').setAudience('gpuaas-subgraphs').setIssuedAt(t0).setExpirationTime(at(60)).sign(key);
    expect(await reasonOf(verifyIdentity(half, { secret, now: t0 }))).toBe('invalid_claims');
  });

  it('refuses garbage and a repeated header', async () => {
    expect(await reasonOf(verifyIdentity('not-a-jwt', { secret }))).toBe('malformed');
    const assertion = await signIdentity(caller, { secret });
    expect(await reasonOf(readGatewayIdentity([assertion, assertion], { secret }))).toBe('malformed');
    await expect(readGatewayIdentity([assertion], { secret })).resolves.toMatchObject({ userId: caller.userId });
  });

  it('refuses another algorithm, a critical extension, a truncated MAC and a payload that is not an object', async () => {
    const [header, payload, signature] = (await signIdentity(caller, { secret, now: t0 })).split('.') as [string, string, string];
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const resigned = (h: string, p: string) => `${h}.${p}.${createHmac('sha256', identityKey(secret)).update(`${h}.${p}`).digest('base64url')}`;
    expect(await reasonOf(verifyIdentity(`${encode({ alg: 'none' })}.${payload}.`, { secret, now: t0 }))).toBe('malformed');
    expect(await reasonOf(verifyIdentity(resigned(encode({ alg: 'HS256', crit: ['exp'], exp: 1 }), payload), { secret, now: t0 }))).toBe('malformed');
    expect(await reasonOf(verifyIdentity(`${header}.${payload}.${signature.slice(0, 20)}`, { secret, now: t0 }))).toBe('bad_signature');
    expect(await reasonOf(verifyIdentity(resigned(header, encode(['not', 'an', 'object'])), { secret, now: t0 }))).toBe('malformed');
    expect(await reasonOf(verifyIdentity(`${header}.${payload}.${signature}.extra`, { secret, now: t0 }))).toBe('malformed');
  });

  it('refuses a secret shorter than 32 bytes', async () => {
    expect(() => identityKey('too-short')).toThrow(/at least 32 bytes/);
    await expect(signIdentity(caller, { secret: 'x'.repeat(31) })).rejects.toThrow(TypeError);
    expect(identityKey(new Uint8Array(32))).toHaveLength(32);
  });
});

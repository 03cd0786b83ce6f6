import { decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError, toErrorResponse } from '@gpuaas/errors';
import {
  createSigningKey,
  importSigningKey,
  issueAccessToken,
  localJwks,
  readBearerToken,
  verifyAccessToken,
  type AccessTokenRejection,
  type IssueAccessTokenInput,
  type KeySet,
  type SigningKey,
} from '../src/index.js';

const issuer = 'gpuaas-access';
const audience = 'gpuaas';
const t0 = new Date('2026-11-27T12:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

let key: SigningKey;
let jwks: KeySet;

beforeAll(async () => {
  key = await createSigningKey();
  jwks = localJwks([key.publicJwk]);
});

function input(overrides: Partial<IssueAccessTokenInput> = {}): IssueAccessTokenInput {
  return {
    key,
    userId: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e0f',
    role: 'user',
    tokenVersion: 3,
    sessionId: '01936f5e-9a10-7c3e-8d21-5a6b7c8d9e10',
    ttlSeconds: 900,
    issuer,
    audience,
    now: t0,
    ...overrides,
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<{ code: string; reason: unknown; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  return { code: appError.code, reason: appError.details?.reason, message: appError.message };
}

async function expectRejected(promise: Promise<unknown>, reason: AccessTokenRejection): Promise<void> {
  const rejection = await rejectionOf(promise);
  expect(rejection).toMatchObject({ code: 'unauthenticated', reason });
  expect(rejection.message).toMatch(/^The access token (is invalid|has expired)$/);
}

describe('access tokens', () => {
  it('issues a token that verifies back to the same typed claims', async () => {
    const issued = await issueAccessToken(input());
    expect(issued.expiresIn).toBe(900);
    expect(issued.expiresAt.toISOString()).toBe('2026-11-27T12:15:00.000Z');
    const claims = await verifyAccessToken(issued.token, { jwks, issuer, audience, now: at(60) });
    expect(claims).toEqual({
      userId: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e0f',
      role: 'user',
      tokenVersion: 3,
      sessionId: '01936f5e-9a10-7c3e-8d21-5a6b7c8d9e10',
      tokenId: issued.tokenId,
      keyId: key.kid,
      issuedAt: t0,
      expiresAt: issued.expiresAt,
    });
  });

  it('signs with an asymmetric key and names it in the header', async () => {
    const { token } = await issueAccessToken(input());
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' });
    expect(key.publicJwk).not.toHaveProperty('d');
    expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('works with an ES256 key as well', async () => {
    const es256 = await createSigningKey({ algorithm: 'ES256' });
    const { token } = await issueAccessToken(input({ key: es256, role: 'admin' }));
    expect(decodeProtectedHeader(token).alg).toBe('ES256');
    const claims = await verifyAccessToken(token, { jwks: localJwks([es256.publicJwk]), issuer, audience, now: t0 });
    expect(claims.role).toBe('admin');
  });

  it('keeps verifying tokens after the key is reloaded from its stored PEM', async () => {
    const reloaded = await importSigningKey({ kid: key.kid, algorithm: 'EdDSA', privateKeyPem: key.privateKeyPem });
    expect(reloaded.kid).toBe(key.kid);
    expect(reloaded.publicJwk).toEqual(key.publicJwk);
    // Without a stored kid the thumbprint comes out the same, so the kid is a property of the key.
    expect((await importSigningKey({ algorithm: 'EdDSA', privateKeyPem: key.privateKeyPem })).kid).toBe(key.kid);
    const { token } = await issueAccessToken(input({ key: reloaded }));
    await expect(verifyAccessToken(token, { jwks, issuer, audience, now: t0 })).resolves.toMatchObject({ keyId: key.kid });
  });

  it('refuses an expired token, allowing only the clock tolerance', async () => {
    const { token } = await issueAccessToken(input({ ttlSeconds: 60 }));
    await expect(verifyAccessToken(token, { jwks, issuer, audience, now: at(63), clockToleranceSeconds: 5 })).resolves.toBeDefined();
    await expectRejected(verifyAccessToken(token, { jwks, issuer, audience, now: at(66), clockToleranceSeconds: 5 }), 'expired');
    const rejection = await rejectionOf(verifyAccessToken(token, { jwks, issuer, audience, now: at(3600) }));
    expect(rejection.message).toBe('The access token has expired');
  });

  it('refuses a token whose payload was altered', async () => {
    const { token } = await issueAccessToken(input());
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    await expectRejected(verifyAccessToken(`${header}.${forged}.${signature}`, { jwks, issuer, audience, now: t0 }), 'bad_signature');
  });

  it('refuses a token signed by another key that claims a known kid', async () => {
    const attacker = await createSigningKey();
    const forged = await issueAccessToken(input({ key: { ...attacker, kid: key.kid } }));
    await expectRejected(verifyAccessToken(forged.token, { jwks, issuer, audience, now: t0 }), 'bad_signature');
  });

  it('refuses a token whose kid is unknown or missing', async () => {
    const other = await createSigningKey();
    const { token } = await issueAccessToken(input({ key: other }));
    await expectRejected(verifyAccessToken(token, { jwks, issuer, audience, now: t0 }), 'unknown_kid');

    const withoutKid = await new SignJWT({ role: 'user', tv: 0, sid: 's' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setSubject('u')
      .setIssuer(issuer)
      .setAudience(audience)
      .setJti('j')
      .setIssuedAt(t0)
      .setExpirationTime(at(60))
      .sign(await importJWK(key.privateJwk, 'EdDSA'));
    await expectRejected(verifyAccessToken(withoutKid, { jwks, issuer, audience, now: t0 }), 'unknown_kid');
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const { token } = await issueAccessToken(input());
    await expectRejected(verifyAccessToken(token, { jwks, issuer, audience: 'another-api', now: t0 }), 'wrong_audience');
    await expectRejected(verifyAccessToken(token, { jwks, issuer: 'someone-else', audience, now: t0 }), 'wrong_issuer');
  });

  it('refuses an HMAC or unsigned token even when it names a known kid', async () => {
    const hmac = await new SignJWT({ role: 'admin', tv: 0, sid: 's' })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })
      .setSubject('u')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime(at(60))
      .sign(new TextEncoder().encode(key.publicJwk.x));
    await expectRejected(verifyAccessToken(hmac, { jwks, issuer, audience, now: t0 }), 'unsupported_algorithm');

    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    await expectRejected(verifyAccessToken(unsigned, { jwks, issuer, audience, now: t0 }), 'unsupported_algorithm');
  });

  it('refuses a correctly signed JWT that is not typed as an access token', async () => {
    const idTokenLike = await new SignJWT({ role: 'user', tv: 0, sid: 's' })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
      .setSubject('u')
      .setIssuer(issuer)
      .setAudience(audience)
      .setJti('j')
      .setIssuedAt(t0)
      .setExpirationTime(at(60))
      .sign(await importJWK(key.privateJwk, 'EdDSA'));
    await expectRejected(verifyAccessToken(idTokenLike, { jwks, issuer, audience, now: t0 }), 'wrong_type');
  });

  it('refuses a signed token whose claims have the wrong shape', async () => {
    const sign = async (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' })
        .setSubject('u')
        .setIssuer(issuer)
        .setAudience(audience)
        .setJti('j')
        .setIssuedAt(t0)
        .setExpirationTime(at(60))
        .sign(await importJWK(key.privateJwk, 'EdDSA'));
    await expectRejected(verifyAccessToken(await sign({ role: 'superuser', tv: 0, sid: 's' }), { jwks, issuer, audience, now: t0 }), 'invalid_claims');
    await expectRejected(verifyAccessToken(await sign({ role: 'user', tv: -1, sid: 's' }), { jwks, issuer, audience, now: t0 }), 'invalid_claims');
    await expectRejected(verifyAccessToken(await sign({ role: 'user', tv: 0 }), { jwks, issuer, audience, now: t0 }), 'invalid_claims');
  });

  it('answers garbage with a generic message that leaks nothing from the JWT library', async () => {
    for (const garbage of ['', 'abc', 'a.b.c', 'bm90LWpzb24.e30.c2ln', 'x'.repeat(9000)]) {
      await expectRejected(verifyAccessToken(garbage, { jwks, issuer, audience, now: t0 }), 'malformed');
    }
    const error = await verifyAccessToken('a.b.c', { jwks, issuer, audience }).catch((caught: unknown) => caught);
    const { status, body } = toErrorResponse(error, 'corr-1');
    expect(status).toBe(401);
    expect(body).toEqual({ code: 'unauthenticated', message: 'The access token is invalid', correlation_id: 'corr-1', details: { reason: 'malformed' } });
  });

  it('reports an unavailable key resolver as a service problem, not a bad token', async () => {
    const { token } = await issueAccessToken(input());
    const failing = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:4101'));
    const rejection = await rejectionOf(verifyAccessToken(token, { keyResolver: failing, issuer, audience, now: t0 }));
    expect(rejection).toEqual({ code: 'service_unavailable', reason: undefined, message: 'Token verification keys are unavailable' });
  });

  it('refuses to issue with impossible input', async () => {
    await expect(issueAccessToken(input({ tokenVersion: -1 }))).rejects.toThrow(TypeError);
    await expect(issueAccessToken(input({ ttlSeconds: 0 }))).rejects.toThrow(TypeError);
    await expect(issueAccessToken(input({ userId: '' }))).rejects.toThrow(TypeError);
    await expect(issueAccessToken(input({ role: 'root' as never }))).rejects.toThrow(TypeError);
  });
});

describe('bearer header', () => {
  it('reads the token from a Bearer authorization header only', () => {
    expect(readBearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(readBearerToken('bearer   abc.def.ghi ')).toBe('abc.def.ghi');
    expect(readBearerToken('Basic dXNlcjpwYXNz')).toBeNull();
    expect(readBearerToken('Bearer')).toBeNull();
    expect(readBearerToken('Bearer a b')).toBeNull();
    expect(readBearerToken(undefined)).toBeNull();
  });
});

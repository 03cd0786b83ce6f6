import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import {
  createSigningKey,
  issueAccessToken,
  localJwks,
  publishJwks,
  remoteJwks,
  verifyAccessToken,
  type PublishedJwks,
  type SigningKey,
} from '../src/index.js';

const issuer = 'gpuaas-access';
const audience = 'gpuaas';
const ttlSeconds = 900;
const retiredAt = new Date('2026-11-27T12:00:00Z');
const at = (seconds: number) => new Date(retiredAt.getTime() + seconds * 1000);

let oldKey: SigningKey;
let newKey: SigningKey;

beforeAll(async () => {
  [oldKey, newKey] = await Promise.all([createSigningKey(), createSigningKey()]);
});

const tokenFrom = async (key: SigningKey, now: Date) =>
  (await issueAccessToken({ key, userId: 'u-1', role: 'user', tokenVersion: 0, sessionId: 's-1', ttlSeconds, issuer, audience, now })).token;

describe('key rotation', () => {
  it('verifies tokens of the new key and of the retired key until the last of those has expired', async () => {
    let clock = at(0);
    const jwks = localJwks([{ publicJwk: oldKey.publicJwk, retiredAt }, { publicJwk: newKey.publicJwk }], {
      maxTokenTtlSeconds: ttlSeconds,
      now: () => clock,
    });
    const lastOldToken = await tokenFrom(oldKey, at(-1));
    const newToken = await tokenFrom(newKey, at(0));

    clock = at(ttlSeconds - 10);
    await expect(verifyAccessToken(lastOldToken, { jwks, issuer, audience, now: clock, clockToleranceSeconds: 0 })).resolves.toMatchObject({ keyId: oldKey.kid });
    expect(jwks.publish().keys.map((jwk) => jwk.kid)).toEqual([oldKey.kid, newKey.kid]);

    clock = at(ttlSeconds + 1);
    // Even a token the old key signed with a longer lifetime than policy stops verifying once the key drops out.
    const longLived = (await issueAccessToken({ key: oldKey, userId: 'u', role: 'user', tokenVersion: 0, sessionId: 's', ttlSeconds: 86_400, issuer, audience, now: at(-1) })).token;
    const error = await verifyAccessToken(longLived, { jwks, issuer, audience, now: clock }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).details).toEqual({ reason: 'unknown_kid' });
    expect(jwks.publish().keys.map((jwk) => jwk.kid)).toEqual([newKey.kid]);
    await expect(verifyAccessToken(newToken, { jwks, issuer, audience, now: at(10) })).resolves.toMatchObject({ keyId: newKey.kid });
  });

  it('publishes only public members with their kid, alg and use', () => {
    const published = publishJwks([oldKey.publicJwk, { ...newKey.privateJwk } as never]);
    expect(published.keys).toHaveLength(2);
    for (const jwk of published.keys) {
      expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    }
    expect(JSON.stringify(published)).not.toContain(String(newKey.privateJwk.d));
  });

  it('refuses to build a key set that cannot say how long retired keys verify, or has duplicate kids', () => {
    expect(() => localJwks([{ publicJwk: oldKey.publicJwk, retiredAt }])).toThrow(/maxTokenTtlSeconds/);
    expect(() => localJwks([oldKey.publicJwk, oldKey.publicJwk])).toThrow(/Duplicate kid/);
  });
});

describe('remote key set', () => {
  let server: Server;
  let served: PublishedJwks;
  let url: string;
  let fetches = 0;

  beforeAll(async () => {
    served = publishJwks([oldKey.publicJwk]);
    server = createServer((_request, response) => {
      fetches += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  });

  it('verifies against the published set and refetches it when a new kid appears', async () => {
    const jwks = remoteJwks(url, { cooldownMs: 0 });
    await expect(verifyAccessToken(await tokenFrom(oldKey, new Date()), { jwks, issuer, audience })).resolves.toMatchObject({ keyId: oldKey.kid });
    const before = fetches;

    served = publishJwks([oldKey.publicJwk, newKey.publicJwk]);
    await expect(verifyAccessToken(await tokenFrom(newKey, new Date()), { jwks, issuer, audience })).resolves.toMatchObject({ keyId: newKey.kid });
    expect(fetches).toBeGreaterThan(before);
  });

  it('reports an unreachable key set as service_unavailable', async () => {
    const jwks = remoteJwks('http://127.0.0.1:1/.well-known/jwks.json', { timeoutMs: 2_000 });
    const error = await verifyAccessToken(await tokenFrom(oldKey, new Date()), { jwks, issuer, audience }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('service_unavailable');
  });
});

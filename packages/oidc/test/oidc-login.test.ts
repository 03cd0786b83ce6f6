import { randomBytes } from 'node:crypto';
import { ConfigError } from '@gpuaas/config';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginStateStore, createOidcClient, type LoginStateStore, type OidcProviderConfig } from '../src/index.js';
import { alice, authorize, bob, REDIRECT_URI, refusal, startTestOidcProvider, type TestOidcProvider } from './support.js';

const webClient = { client_id: 'gpuaas-web', client_secret: randomBytes(16).toString('hex'), redirect_uris: [REDIRECT_URI] };
const cliClient = { client_id: 'gpuaas-cli', redirect_uris: [REDIRECT_URI] };

const providerConfig = (issuer: string, client: { client_id: string; client_secret?: string } = webClient): OidcProviderConfig => ({
  id: 'test',
  issuer,
  clientId: client.client_id,
  clientSecret: client.client_secret,
  displayName: 'Test IdP',
  scopes: ['openid', 'email', 'profile'],
});

let idp: TestOidcProvider;
let redis: TestRedis;
let store: LoginStateStore;

beforeAll(async () => {
  idp = await startTestOidcProvider({ clients: [webClient, cliClient], accounts: [alice, bob] });
  redis = await createTestRedis();
  store = createLoginStateStore(redis, 'oidc-login-test:');
});

afterAll(async () => {
  await idp?.stop();
  await redis?.cleanup();
});

const webRp = () => createOidcClient(providerConfig(idp.issuer), { redirectUri: REDIRECT_URI, allowInsecureLoopback: true });

describe('OIDC login against a real OpenID provider', () => {
  it('signs in the chosen account and returns its verified subject, email and name', async () => {
    const client = webRp();
    idp.loginAs(alice.sub);
    const { request, callbackUrl, pending } = await authorize(client);
    await store.save(request.state, pending);

    const stored = await store.consume(callbackUrl.searchParams.get('state') ?? '');
    const identity = await client.completeLogin({ callbackUrl, expected: { state: request.state, ...stored } });

    expect(identity).toMatchObject({
      providerId: 'test',
      issuer: idp.issuer,
      subject: alice.sub,
      email: alice.email,
      emailVerified: true,
      name: alice.name,
    });
    expect(identity.claims.aud).toBe(webClient.client_id);
  });

  it('asks for the code with an S256 PKCE challenge, a fresh state and a fresh nonce', async () => {
    const client = webRp();
    const first = await client.beginLogin();
    const second = await client.beginLogin();
    const url = new URL(first.authorizationUrl);

    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('code_challenge')).not.toBe(first.codeVerifier);
    expect(url.searchParams.has('code_verifier')).toBe(false);
    expect(url.searchParams.get('state')).toBe(first.state);
    expect(url.searchParams.get('nonce')).toBe(first.nonce);
    expect(second.state).not.toBe(first.state);
    expect(second.nonce).not.toBe(first.nonce);
    expect(second.codeVerifier).not.toBe(first.codeVerifier);
  });

  it('signs in the account named by login_hint and reports an unverified email as unverified', async () => {
    const { request, callbackUrl } = await authorize(webRp(), bob.sub);
    const identity = await webRp().completeLogin({ callbackUrl, expected: request });

    expect(identity.subject).toBe(bob.sub);
    expect(identity.email).toBe(bob.email);
    expect(identity.emailVerified).toBe(false);
  });

  it('completes from the callback parameters alone, as a client that posts code, state and iss would', async () => {
    const client = webRp();
    idp.loginAs(alice.sub);
    const { request, callbackUrl } = await authorize(client);
    const param = (name: string) => callbackUrl.searchParams.get(name) ?? '';

    const identity = await client.completeLogin({ code: param('code'), state: param('state'), iss: param('iss'), expected: request });

    expect(identity.subject).toBe(alice.sub);
  });

  it('signs in through a public client with PKCE alone', async () => {
    const client = createOidcClient(providerConfig(idp.issuer, cliClient), { redirectUri: REDIRECT_URI, allowInsecureLoopback: true });
    idp.loginAs(alice.sub);
    const { request, callbackUrl } = await authorize(client);

    const identity = await client.completeLogin({ callbackUrl, expected: request });

    expect(identity.subject).toBe(alice.sub);
  });

  it('reads the profile from the ID token when the provider puts it there', async () => {
    const richIdp = await startTestOidcProvider({ clients: [webClient], accounts: [alice], conformIdTokenClaims: false });
    try {
      const client = createOidcClient(providerConfig(richIdp.issuer), { redirectUri: REDIRECT_URI, allowInsecureLoopback: true });
      const { request, callbackUrl } = await authorize(client);

      const identity = await client.completeLogin({ callbackUrl, expected: request });

      expect(identity).toMatchObject({ subject: alice.sub, email: alice.email, name: alice.name, issuer: richIdp.issuer });
    } finally {
      await richIdp.stop();
    }
  });
});

describe('OIDC login refusals', () => {
  it('refuses a callback whose state was tampered with', async () => {
    const client = webRp();
    idp.loginAs(alice.sub);
    const { request, callbackUrl, pending } = await authorize(client);
    await store.save(request.state, pending);
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', randomBytes(32).toString('base64url'));

    const unknown = await refusal(store.consume(forged.searchParams.get('state') ?? ''));
    const mismatch = await refusal(client.completeLogin({ callbackUrl: forged, expected: request }));

    expect(unknown.code).toBe('invalid_credentials');
    expect(unknown.details?.reason).toBe('state_unknown');
    expect(mismatch.code).toBe('invalid_credentials');
    expect(mismatch.details?.reason).toBe('state_mismatch');
  });

  it('refuses a replayed state and a replayed code', async () => {
    const client = webRp();
    idp.loginAs(alice.sub);
    const { request, callbackUrl, pending } = await authorize(client);
    await store.save(request.state, pending);
    const stored = await store.consume(request.state);
    await client.completeLogin({ callbackUrl, expected: { state: request.state, ...stored } });

    const replayedState = await refusal(store.consume(request.state));
    const replayedCode = await refusal(client.completeLogin({ callbackUrl, expected: request }));

    expect(replayedState.code).toBe('invalid_credentials');
    expect(replayedState.details?.reason).toBe('state_unknown');
    expect(replayedCode.code).toBe('invalid_credentials');
    expect(replayedCode.details?.reason).toBe('code_rejected');
  });

  it('refuses an ID token whose nonce is not the one stored for the state', async () => {
    const client = webRp();
    idp.loginAs(alice.sub);
    const { request, callbackUrl, pending } = await authorize(client);
    const otherNonce = (await client.beginLogin()).nonce;
    await store.save(request.state, { ...pending, nonce: otherNonce });
    const stored = await store.consume(request.state);

    const error = await refusal(client.completeLogin({ callbackUrl, expected: { state: request.state, ...stored } }));

    expect(error.code).toBe('invalid_credentials');
    expect(error.details?.reason).toBe('nonce_mismatch');
    expect(error.message).not.toMatch(/nonce|claim|JWT/i);
  });

  it('refuses a code redeemed with a verifier that does not match its PKCE challenge', async () => {
    const client = webRp();
    idp.loginAs(alice.sub);
    const { request, callbackUrl } = await authorize(client);
    const otherVerifier = (await client.beginLogin()).codeVerifier;

    const error = await refusal(client.completeLogin({ callbackUrl, expected: { ...request, codeVerifier: otherVerifier } }));

    expect(error.code).toBe('invalid_credentials');
    expect(error.details?.reason).toBe('code_rejected');
  });

  it('refuses an ID token that does not verify against the keys the provider publishes', async () => {
    const swappedIdp = await startTestOidcProvider({ clients: [webClient], accounts: [alice] });
    try {
      const client = createOidcClient(providerConfig(swappedIdp.issuer), { redirectUri: REDIRECT_URI, allowInsecureLoopback: true });
      const { request, callbackUrl } = await authorize(client);
      swappedIdp.publishForeignJwks();

      const error = await refusal(client.completeLogin({ callbackUrl, expected: request }));

      expect(error.code).toBe('invalid_credentials');
      expect(error.details?.reason).toBe('id_token_signature_invalid');
      expect(error.message).not.toMatch(/signature|JWS|JWT/i);
    } finally {
      await swappedIdp.stop();
    }
  });

  it('reports a login the provider denied as invalid_credentials', async () => {
    const client = webRp();
    const { request, callbackUrl } = await authorize(client, 'no-such-account');

    const error = await refusal(client.completeLogin({ callbackUrl, expected: request }));

    expect(callbackUrl.searchParams.get('error')).toBe('access_denied');
    expect(error.code).toBe('invalid_credentials');
    expect(error.details).toMatchObject({ reason: 'authorization_denied', provider_error: 'access_denied' });
  });
});

describe('OIDC provider availability', () => {
  it('reports upstream_error when the provider cannot be reached for discovery', async () => {
    const goneIdp = await startTestOidcProvider({ clients: [webClient], accounts: [alice] });
    await goneIdp.stop();
    const client = createOidcClient(providerConfig(goneIdp.issuer), { redirectUri: REDIRECT_URI, allowInsecureLoopback: true });

    const error = await refusal(client.beginLogin());

    expect(error.code).toBe('upstream_error');
    expect(error.details).toEqual({ provider: 'test' });
    expect(error.message).not.toMatch(/fetch|ECONNREFUSED/i);
  });

  it('reports upstream_error when the provider goes away between redirect and callback', async () => {
    const flakyIdp = await startTestOidcProvider({ clients: [webClient], accounts: [alice] });
    const client = createOidcClient(providerConfig(flakyIdp.issuer), { redirectUri: REDIRECT_URI, allowInsecureLoopback: true });
    const { request, callbackUrl } = await authorize(client);
    await flakyIdp.stop();

    const error = await refusal(client.completeLogin({ callbackUrl, expected: request }));

    expect(error.code).toBe('upstream_error');
  });

  it('refuses a plain-http issuer unless insecure loopback is allowed', () => {
    expect(() => createOidcClient(providerConfig(idp.issuer), { redirectUri: REDIRECT_URI })).toThrow(ConfigError);
    expect(() =>
      createOidcClient(providerConfig('http://idp.example.test'), { redirectUri: REDIRECT_URI, allowInsecureLoopback: true }),
    ).toThrow(ConfigError);
  });
});

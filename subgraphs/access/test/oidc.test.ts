import { randomUUID } from 'node:crypto';
import { followAuthorizationRedirects, startTestOidcProvider, type TestOidcProvider } from '@gpuaas/testkit/oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_JWT, TOKEN_FIELDS, dataOf, errorCode, onlyError, registerUser, startAccess, type AccessHarness, type TokenPair } from './support/harness.js';

const REDIRECT_URI = 'http://127.0.0.1:5173/login/oidc/callback';
const tag = randomUUID().slice(0, 8);
const account = (name: string, verified: boolean) => ({
  sub: `${name}-${tag}`,
  email: `${name}-${tag}@idp.example.com`,
  email_verified: verified,
  name: `${name[0]?.toUpperCase()}${name.slice(1)} From IdP`,
});
const alice = account('alice', true);
const bob = account('bob', true);
const carol = account('carol', false);
const dave = account('dave', false);
const erin = account('erin', true);

let idp: TestOidcProvider;
let access: AccessHarness;

beforeAll(async () => {
  idp = await startTestOidcProvider({
    clients: [{ client_id: 'gpuaas-console', redirect_uris: [REDIRECT_URI] }],
    accounts: [alice, bob, carol, dave, erin],
  });
  access = await startAccess({
    OIDC_PROVIDERS: 'testidp',
    OIDC_TESTIDP_ISSUER: idp.issuer,
    OIDC_TESTIDP_CLIENT_ID: 'gpuaas-console',
    OIDC_TESTIDP_DISPLAY_NAME: 'Test IdP',
    OIDC_REDIRECT_URI_ALLOWLIST: REDIRECT_URI,
    OIDC_ALLOW_INSECURE_LOOPBACK: 'true',
  });
});

afterAll(async () => {
  await access?.close();
  await idp?.stop();
});

const START = 'mutation ($input: StartOidcLoginInput!) { startOidcLogin(input: $input) { authorizationUrl state } }';
const COMPLETE = `mutation ($input: CompleteOidcLoginInput!) { completeOidcLogin(input: $input) { ${TOKEN_FIELDS} } }`;
const ME = '{ me { id email displayName personalProjectId projectCount authMethods { type provider } } }';

interface Callback {
  provider: string;
  code: string;
  state: string;
  iss: string;
}

/** Drives the browser's part: start at access, follow the IdP's redirects back to the console's callback URL. */
async function authorize(sub: string): Promise<Callback> {
  const start = dataOf(await access.gql<{ startOidcLogin: { authorizationUrl: string; state: string } }>(START, { input: { provider: 'testidp', loginHint: sub } }));
  const { authorizationUrl, state } = start.startOidcLogin;
  expect(new URL(authorizationUrl).searchParams.get('code_challenge_method')).toBe('S256');
  const callback = await followAuthorizationRedirects(authorizationUrl, REDIRECT_URI);
  expect(callback.searchParams.get('state')).toBe(state);
  return { provider: 'testidp', code: callback.searchParams.get('code') ?? '', state, iss: callback.searchParams.get('iss') ?? '' };
}

const complete = (callback: Callback) => access.gql<{ completeOidcLogin: TokenPair }>(COMPLETE, { input: callback });

async function me(tokens: TokenPair) {
  type Me = { me: { id: string; email: string; displayName: string; personalProjectId: string; projectCount: number; authMethods: { type: string; provider: string | null }[] } };
  return dataOf(await access.gql<Me>(ME, {}, await access.identityOf(tokens.accessToken))).me;
}

describe('OIDC providers', () => {
  it('lists the configured providers to anyone', async () => {
    const response = await access.gql<{ oidcProviders: { edges: { node: { id: string; displayName: string } }[]; pageInfo: { hasNextPage: boolean } } }>(
      '{ oidcProviders { edges { node { id displayName } } pageInfo { hasNextPage } } }',
    );
    expect(dataOf(response).oidcProviders).toEqual({ edges: [{ node: { id: 'testidp', displayName: 'Test IdP' } }], pageInfo: { hasNextPage: false } });
  });

  it('refuses an unknown provider and a callback URL that is not allow-listed', async () => {
    expect(errorCode(await access.gql(START, { input: { provider: 'nope' } }))).toBe('not_found');
    const open = onlyError(await access.gql(START, { input: { provider: 'testidp', redirectUri: 'https://evil.example.com/cb' } }));
    expect(open.extensions?.details?.fields).toEqual([{ field: 'query.redirect_uri', message: 'is not an allowed callback URL' }]);
  });
});

describe('OIDC login', () => {
  it('creates the user and a personal project on the first login, and finds them on the second', async () => {
    const first = dataOf(await complete(await authorize(alice.sub))).completeOidcLogin;
    const created = await me(first);
    expect(created).toMatchObject({ email: alice.email, displayName: 'Alice From IdP', projectCount: 1, authMethods: [{ type: 'OIDC', provider: 'testidp' }] });

    const second = dataOf(await complete(await authorize(alice.sub))).completeOidcLogin;
    const found = await me(second);
    expect(found.id).toBe(created.id);
    expect(found.personalProjectId).toBe(created.personalProjectId);
    expect((await access.claimsOf(second.accessToken)).sessionId).not.toBe((await access.claimsOf(first.accessToken)).sessionId);

    const { rows } = await access.pool.query<{ users: number; projects: number; identities: number }>(
      `SELECT (SELECT count(*)::int FROM access.users WHERE lower(email) = lower($1)) AS users,
              (SELECT count(*)::int FROM access.projects WHERE owner_id = $2) AS projects,
              (SELECT count(*)::int FROM access.oidc_identities WHERE user_id = $2) AS identities`,
      [alice.email, created.id],
    );
    expect(rows[0]).toEqual({ users: 1, projects: 1, identities: 1 });
  });

  it('completes without the iss parameter, as the REST callback sends it, and refuses a wrong one', async () => {
    const { iss: _iss, ...withoutIss } = await authorize(erin.sub);
    expect(dataOf(await complete(withoutIss as Callback)).completeOidcLogin.accessToken).toMatch(ACCESS_JWT);
    const forged = await authorize(erin.sub);
    expect(errorCode(await complete({ ...forged, iss: 'https://other-idp.example.com' }))).toBe('invalid_credentials');
  });

  it('accepts a state only once', async () => {
    const callback = await authorize(erin.sub);
    dataOf(await complete(callback));
    const replay = onlyError(await complete(callback));
    expect(replay.extensions).toMatchObject({ code: 'invalid_credentials', details: { reason: 'state_unknown' } });
  });

  it('refuses a callback whose state the platform did not issue', async () => {
    const callback = await authorize(erin.sub);
    expect(errorCode(await complete({ ...callback, state: `${callback.state.slice(0, -2)}xx` }))).toBe('invalid_credentials');
  });

  it('links a verified email to the existing password account', async () => {
    const existing = await registerUser(access, { email: bob.email });
    const tokens = dataOf(await complete(await authorize(bob.sub))).completeOidcLogin;
    const linked = await me(tokens);
    expect(linked.id).toBe(existing.id);
    expect(linked.authMethods).toEqual([
      { type: 'PASSWORD', provider: null },
      { type: 'OIDC', provider: 'testidp' },
    ]);
  });

  it('refuses to link an unverified email that belongs to an account', async () => {
    await registerUser(access, { email: carol.email });
    const error = onlyError(await complete(await authorize(carol.sub)));
    expect(error.extensions?.code).toBe('already_exists');
    const { rows } = await access.pool.query('SELECT 1 FROM access.oidc_identities WHERE subject = $1', [carol.sub]);
    expect(rows).toEqual([]);
  });

  it('creates an account for an unverified email nobody has', async () => {
    const tokens = dataOf(await complete(await authorize(dave.sub))).completeOidcLogin;
    expect((await me(tokens)).email).toBe(dave.email);
    const { rows } = await access.pool.query('SELECT email_verified_at FROM access.users WHERE email = $1', [dave.email]);
    expect(rows).toEqual([{ email_verified_at: null }]);
  });

  it('answers account_suspended for a suspended user', async () => {
    const tokens = dataOf(await complete(await authorize(erin.sub))).completeOidcLogin;
    const user = await me(tokens);
    await access.pool.query("UPDATE access.users SET status = 'suspended', suspended_at = now() WHERE id = $1", [user.id]);
    expect(errorCode(await complete(await authorize(erin.sub)))).toBe('account_suspended');
  });
});

import { createTokenRevocationStore } from '@gpuaas/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_JWT,
  LOGIN,
  PASSWORD,
  REGISTER,
  TOKEN_FIELDS,
  dataOf,
  errorCode,
  onlyError,
  registerUser,
  startAccess,
  uniqueEmail,
  uniqueIp,
  type AccessHarness,
  type TokenPair,
} from './support/harness.js';

const ACCOUNT_LIMIT = 3;
const IP_LIMIT = 5;

let access: AccessHarness;

beforeAll(async () => {
  access = await startAccess({
    POLICY_LOGIN_ATTEMPTS_PER_ACCOUNT_PER_15M: String(ACCOUNT_LIMIT),
    POLICY_LOGIN_ATTEMPTS_PER_IP_PER_15M: String(IP_LIMIT),
  });
});

afterAll(async () => {
  await access?.close();
});

const ME = 'query { me { id email displayName role status authMethods { type provider } projectCount lastLoginAt } }';
const REFRESH = `mutation Refresh($input: RefreshTokensInput!) { refreshTokens(input: $input) { ${TOKEN_FIELDS} } }`;
const LOGOUT = 'mutation Logout($input: LogoutInput!) { logout(input: $input) }';

const login = (email: string, password: string, ip = uniqueIp()) =>
  access.gql<{ login: TokenPair }>(LOGIN, { input: { email, password } }, access.anonymous(ip));
const refresh = (refreshToken: string, ip = uniqueIp()) =>
  access.gql<{ refreshTokens: TokenPair }>(REFRESH, { input: { refreshToken } }, access.anonymous(ip));

function revocations() {
  return createTokenRevocationStore(access.redis, 'auth:');
}

describe('the gateway boundary', () => {
  it('refuses a call that did not come through the gateway', async () => {
    const response = await fetch(`${access.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('unauthenticated');
  });

  it('publishes its signing keys without any credential', async () => {
    const response = await fetch(`${access.url}/.well-known/jwks.json`);
    const body = (await response.json()) as { keys: { kty: string; kid: string; d?: string }[] };
    expect(response.status).toBe(200);
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'OKP', alg: 'EdDSA', use: 'sig' });
    expect(body.keys[0]?.d).toBeUndefined();
  });

  it('answers me only to a signed-in caller', async () => {
    expect(errorCode(await access.gql(ME))).toBe('unauthenticated');
  });
});

describe('registration', () => {
  it('creates the user with a personal project and answers a first token pair', async () => {
    const email = uniqueEmail('ada');
    const response = await access.gql<{ register: { user: Record<string, unknown>; tokens: TokenPair } }>(REGISTER, {
      input: { email: `  ${email} `, password: PASSWORD, displayName: ' Ada Lovelace ' },
    });
    const { user, tokens } = dataOf(response).register;
    expect(user).toMatchObject({ email, displayName: 'Ada Lovelace', role: 'USER', status: 'ACTIVE', projectCount: 1, sshKeyCount: 0 });
    expect(user['authMethods']).toEqual([{ type: 'PASSWORD', provider: null, linkedAt: expect.any(String) }]);
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshExpiresIn: 30 * 86_400 });
    expect(tokens.refreshToken).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);

    const claims = await access.claimsOf(tokens.accessToken);
    expect(claims).toMatchObject({ userId: user['id'], role: 'user', tokenVersion: 0 });
    const family = await access.pool.query('SELECT DISTINCT family_id FROM access.refresh_tokens WHERE user_id = $1', [user['id']]);
    expect(family.rows).toEqual([{ family_id: claims.sessionId }]);

    const project = await access.gql<{ project: Record<string, unknown> }>(
      'query ($id: ID!) { project(id: $id) { id personal slug myRole ownerId memberCount } }',
      { id: user['personalProjectId'] },
      await access.identityOf(tokens.accessToken),
    );
    expect(dataOf(project).project).toEqual({ id: user['personalProjectId'], personal: true, slug: null, myRole: 'OWNER', ownerId: user['id'], memberCount: 1 });
  });

  it('refuses a taken email, compared case-insensitively', async () => {
    const first = await registerUser(access);
    const response = await access.gql(REGISTER, { input: { email: first.email.toUpperCase(), password: PASSWORD, displayName: 'Again' } });
    const error = onlyError(response);
    expect(error.extensions?.code).toBe('already_exists');
    expect(error.extensions?.details?.fields).toEqual([{ field: 'body.email', message: 'is already registered' }]);
  });

  it('lists every invalid field at once with REST-style names', async () => {
    const response = await access.gql(REGISTER, { input: { email: 'not-an-email', password: 'short', displayName: '   ' } });
    const error = onlyError(response);
    expect(error.extensions?.code).toBe('validation_error');
    expect(error.extensions?.details?.fields?.map((issue) => issue.field).sort()).toEqual(['body.display_name', 'body.email', 'body.password']);
  });

  it('refuses a password equal to the email', async () => {
    const email = uniqueEmail('same');
    const response = await access.gql(REGISTER, { input: { email, password: email, displayName: 'Same' } });
    expect(onlyError(response).extensions?.details?.fields).toEqual([{ field: 'body.password', message: 'must not be the same as the email address' }]);
  });
});

describe('password login', () => {
  it('answers a token pair for the right password and records the login', async () => {
    const user = await registerUser(access);
    const tokens = dataOf(await login(user.email.toUpperCase(), PASSWORD)).login;
    const claims = await access.claimsOf(tokens.accessToken);
    expect(claims.userId).toBe(user.id);
    expect(claims.sessionId).not.toBe(user.identity.sessionId);
    const me = dataOf(await access.gql<{ me: { lastLoginAt: string | null } }>(ME, {}, await access.identityOf(tokens.accessToken))).me;
    expect(me.lastLoginAt).not.toBeNull();
  });

  it('answers a wrong password and an unknown email with the same error', async () => {
    const user = await registerUser(access);
    const wrongPassword = onlyError(await login(user.email, 'not-the-password-at-all'));
    const unknownEmail = onlyError(await login(uniqueEmail('ghost'), PASSWORD));
    expect(wrongPassword.extensions?.code).toBe('invalid_credentials');
    expect(unknownEmail.extensions?.code).toBe('invalid_credentials');
    expect(unknownEmail.message).toBe(wrongPassword.message);
  });

  it('reveals a suspension only after the password matched', async () => {
    const user = await registerUser(access);
    await access.pool.query("UPDATE access.users SET status = 'suspended', suspended_at = now() WHERE id = $1", [user.id]);
    expect(errorCode(await login(user.email, 'not-the-password-at-all'))).toBe('invalid_credentials');
    expect(errorCode(await login(user.email, PASSWORD))).toBe('account_suspended');
  });

  it('stops an account after the allowed failed attempts, even with the right password', async () => {
    const user = await registerUser(access);
    for (let attempt = 0; attempt < ACCOUNT_LIMIT; attempt++) {
      expect(errorCode(await login(user.email, 'not-the-password-at-all'))).toBe('invalid_credentials');
    }
    const limited = onlyError(await login(user.email, PASSWORD));
    expect(limited.extensions?.code).toBe('rate_limited');
    expect(limited.extensions?.details?.['retry_after_seconds']).toBeGreaterThan(0);
    const other = await registerUser(access);
    expect(dataOf(await login(other.email, PASSWORD)).login.accessToken).toMatch(ACCESS_JWT);
  });

  it('limits login attempts per client IP', async () => {
    const ip = uniqueIp();
    for (let attempt = 0; attempt < IP_LIMIT; attempt++) {
      expect(errorCode(await login(uniqueEmail('spray'), PASSWORD, ip))).toBe('invalid_credentials');
    }
    const user = await registerUser(access);
    expect(errorCode(await login(user.email, PASSWORD, ip))).toBe('rate_limited');
    expect(dataOf(await login(user.email, PASSWORD, uniqueIp())).login.accessToken).toMatch(ACCESS_JWT);
  });
});

describe('refresh tokens', () => {
  it('rotate: each use answers a new pair for the same session', async () => {
    const user = await registerUser(access);
    const next = dataOf(await refresh(user.tokens.refreshToken)).refreshTokens;
    expect(next.refreshToken).not.toBe(user.tokens.refreshToken);
    const claims = await access.claimsOf(next.accessToken);
    expect(claims.sessionId).toBe(user.identity.sessionId);
    expect(dataOf(await refresh(next.refreshToken)).refreshTokens.accessToken).toMatch(ACCESS_JWT);
  });

  it('treat a replayed refresh token as theft and revoke the whole family', async () => {
    const user = await registerUser(access);
    const child = dataOf(await refresh(user.tokens.refreshToken)).refreshTokens;
    const childIdentity = await access.identityOf(child.accessToken);

    const replay = onlyError(await refresh(user.tokens.refreshToken));
    expect(replay.extensions?.code).toBe('refresh_token_reused');

    const afterTheft = onlyError(await refresh(child.refreshToken));
    expect(afterTheft.extensions).toMatchObject({ code: 'unauthenticated', details: { reason: 'revoked' } });
    const rows = await access.pool.query('SELECT DISTINCT revoked_reason FROM access.refresh_tokens WHERE family_id = $1', [user.identity.sessionId]);
    expect(rows.rows).toEqual([{ revoked_reason: 'reuse_detected' }]);
    expect(await revocations().check(childIdentity)).toEqual({ revoked: true, reason: 'session_revoked' });
    expect(errorCode(await access.gql(ME, {}, childIdentity))).toBe('unauthenticated');
  });

  it('refuse a token that was never issued', async () => {
    const error = onlyError(await refresh(`rt_${'A'.repeat(43)}`));
    expect(error.extensions).toMatchObject({ code: 'unauthenticated', details: { reason: 'unknown' } });
  });

  it("answer account_suspended for a suspended user's token", async () => {
    const user = await registerUser(access);
    await access.pool.query("UPDATE access.users SET status = 'suspended', suspended_at = now() WHERE id = $1", [user.id]);
    expect(errorCode(await refresh(user.tokens.refreshToken))).toBe('account_suspended');
  });
});

describe('logout', () => {
  it("ends the access token's session: its refresh token and access token stop working", async () => {
    const user = await registerUser(access);
    const other = dataOf(await login(user.email, PASSWORD)).login;
    expect(dataOf(await access.gql<{ logout: boolean }>(LOGOUT, { input: {} }, user.identity)).logout).toBe(true);

    expect(errorCode(await refresh(user.tokens.refreshToken))).toBe('unauthenticated');
    expect(await revocations().isSessionRevoked(user.identity.sessionId)).toBe(true);
    expect(errorCode(await access.gql(ME, {}, user.identity))).toBe('unauthenticated');
    // The other login is another session and keeps working.
    expect(dataOf(await refresh(other.refreshToken)).refreshTokens.accessToken).toMatch(ACCESS_JWT);
  });

  it('with allSessions ends every session of the caller', async () => {
    const user = await registerUser(access);
    const second = dataOf(await login(user.email, PASSWORD)).login;
    dataOf(await access.gql(LOGOUT, { input: { allSessions: true } }, user.identity));
    expect(errorCode(await refresh(user.tokens.refreshToken))).toBe('unauthenticated');
    expect(errorCode(await refresh(second.refreshToken))).toBe('unauthenticated');
    expect(errorCode(await access.gql(ME, {}, await access.identityOf(second.accessToken)))).toBe('unauthenticated');
  });

  it("refuses to revoke someone else's refresh token", async () => {
    const user = await registerUser(access);
    const stranger = await registerUser(access);
    const error = onlyError(await access.gql(LOGOUT, { input: { refreshToken: stranger.tokens.refreshToken } }, user.identity));
    expect(error.extensions?.code).toBe('validation_error');
    expect(dataOf(await refresh(stranger.tokens.refreshToken)).refreshTokens.accessToken).toMatch(ACCESS_JWT);
  });
});

const REQUEST_RESET = 'mutation ($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) }';
const CONFIRM_RESET = 'mutation ($input: ConfirmPasswordResetInput!) { confirmPasswordReset(input: $input) }';

async function mailedResetTokens(email: string): Promise<string[]> {
  const { rows } = await access.pool.query<{ body: string }>(
    'SELECT body FROM access.mail_outbox WHERE lower(to_address) = lower($1) ORDER BY created_at, id',
    [email],
  );
  return rows.map((row) => /prt_[A-Za-z0-9_-]{43}/.exec(row.body)?.[0] ?? 'no token in the mail');
}

describe('password reset', () => {
  it('mails a one-time token that sets a new password and ends every session', async () => {
    const user = await registerUser(access);
    expect(dataOf(await access.gql<{ requestPasswordReset: boolean }>(REQUEST_RESET, { input: { email: user.email } })).requestPasswordReset).toBe(true);
    const [token] = await mailedResetTokens(user.email);
    const newPassword = 'a-brand-new-long-passphrase-7';

    expect(dataOf(await access.gql<{ confirmPasswordReset: boolean }>(CONFIRM_RESET, { input: { token, newPassword } })).confirmPasswordReset).toBe(true);
    expect(errorCode(await login(user.email, PASSWORD))).toBe('invalid_credentials');
    expect(dataOf(await login(user.email, newPassword)).login.accessToken).toMatch(ACCESS_JWT);
    expect(errorCode(await refresh(user.tokens.refreshToken))).toBe('unauthenticated');
    expect(await revocations().check(user.identity)).toEqual({ revoked: true, reason: 'tokens_revoked' });
    expect(errorCode(await access.gql(ME, {}, user.identity))).toBe('unauthenticated');
    expect(errorCode(await access.gql(CONFIRM_RESET, { input: { token, newPassword: 'yet-another-long-passphrase-9' } }))).toBe('invalid_credentials');
  });

  it('answers true for an unknown email and sends nothing', async () => {
    const email = uniqueEmail('nobody');
    expect(dataOf(await access.gql<{ requestPasswordReset: boolean }>(REQUEST_RESET, { input: { email } })).requestPasswordReset).toBe(true);
    expect(await mailedResetTokens(email)).toEqual([]);
  });

  it('keeps the token usable when the new password is refused', async () => {
    const user = await registerUser(access);
    dataOf(await access.gql(REQUEST_RESET, { input: { email: user.email } }));
    const [token] = await mailedResetTokens(user.email);
    const weak = onlyError(await access.gql(CONFIRM_RESET, { input: { token, newPassword: 'short' } }));
    expect(weak.extensions?.details?.fields?.[0]?.field).toBe('body.new_password');
    expect(dataOf(await access.gql<{ confirmPasswordReset: boolean }>(CONFIRM_RESET, { input: { token, newPassword: 'long-enough-and-uncommon-3' } })).confirmPasswordReset).toBe(true);
  });

  it('invalidates an earlier token when a new one is requested', async () => {
    const user = await registerUser(access);
    dataOf(await access.gql(REQUEST_RESET, { input: { email: user.email } }));
    dataOf(await access.gql(REQUEST_RESET, { input: { email: user.email } }));
    const [first, second] = await mailedResetTokens(user.email);
    expect(first).not.toBe(second);
    expect(errorCode(await access.gql(CONFIRM_RESET, { input: { token: first, newPassword: 'long-enough-and-uncommon-4' } }))).toBe('invalid_credentials');
    expect(dataOf(await access.gql<{ confirmPasswordReset: boolean }>(CONFIRM_RESET, { input: { token: second, newPassword: 'long-enough-and-uncommon-4' } })).confirmPasswordReset).toBe(true);
  });
});

describe('profile', () => {
  it('updateMe changes the display name only', async () => {
    const user = await registerUser(access);
    const response = await access.gql<{ updateMe: { displayName: string; email: string } }>(
      'mutation ($input: UpdateMeInput!) { updateMe(input: $input) { displayName email } }',
      { input: { displayName: '  Ada King ' } },
      user.identity,
    );
    expect(dataOf(response).updateMe).toEqual({ displayName: 'Ada King', email: user.email });
  });

  it('changePassword needs the current password and ends the other sessions, not the calling one', async () => {
    const user = await registerUser(access);
    const other = dataOf(await login(user.email, PASSWORD)).login;
    const change = 'mutation ($input: ChangePasswordInput!) { changePassword(input: $input) }';
    const newPassword = 'changed-and-long-passphrase-5';

    const missing = onlyError(await access.gql(change, { input: { newPassword } }, user.identity));
    expect(missing.extensions?.details?.fields).toEqual([{ field: 'body.current_password', message: 'is required because the account has a password' }]);
    expect(errorCode(await access.gql(change, { input: { currentPassword: 'wrong-password-here', newPassword } }, user.identity))).toBe('invalid_credentials');
    expect(dataOf(await access.gql<{ changePassword: boolean }>(change, { input: { currentPassword: PASSWORD, newPassword } }, user.identity)).changePassword).toBe(true);

    expect(dataOf(await access.gql<{ me: { id: string } }>(ME, {}, user.identity)).me.id).toBe(user.id);
    expect(dataOf(await refresh(user.tokens.refreshToken)).refreshTokens.accessToken).toMatch(ACCESS_JWT);
    expect(errorCode(await refresh(other.refreshToken))).toBe('unauthenticated');
    expect(dataOf(await login(user.email, newPassword)).login.accessToken).toMatch(ACCESS_JWT);
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followAuthorizationRedirects } from '@gpuaas/testkit/oidc-provider';
import type { AccessClient, Registered, Tokens } from './support/access-client.js';
import { expectRefusal } from './support/expectations.js';
import { graphqlAccessClient } from './support/graphql-client.js';
import { restAccessClient, restCall } from './support/rest-client.js';
import { newSshPublicKey } from './support/ssh-keys.js';
import { OIDC_PROVIDER, OIDC_REDIRECT_URI, startAccessStack, type AccessStack } from './support/stack.js';

const PASSWORD = 'correct-horse-battery-staple-42';
const doors = ['REST', 'GraphQL'] as const;
const oidcAccount = (door: string) => ({ sub: `oidc-subject-${door.toLowerCase()}`, email: `lin.${door.toLowerCase()}@example.com`, email_verified: true, name: `Lin ${door}` });

let stack: AccessStack;

beforeAll(async () => {
  stack = await startAccessStack({ oidcAccounts: doors.map(oidcAccount) });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe.each(doors)('the access journey through %s alone', (door) => {
  const tag = door.toLowerCase();
  const adaEmail = `ada.${tag}@example.com`;
  const graceEmail = `grace.${tag}@example.com`;
  let client: AccessClient;
  let ada: Registered;
  let grace: Registered;
  let session: Tokens;
  let projectId: string;

  beforeAll(() => {
    client = door === 'REST' ? restAccessClient(stack.restUrl) : graphqlAccessClient(stack.graphqlUrl);
  });

  it('registers a user with a personal project and logs in with the same password', async () => {
    ada = await client.register(adaEmail, PASSWORD, 'Ada Lovelace');
    const me = await client.me(ada.tokens.accessToken);
    session = await client.login(adaEmail, PASSWORD);

    expect(me).toMatchObject({ id: ada.userId, email: adaEmail, role: 'user', status: 'active', authMethods: [{ type: 'password', provider: null }] });
    expect(ada.personalProjectId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await client.me(session.accessToken)).id).toBe(ada.userId);
  });

  it('rotates refresh tokens, and a replayed one revokes its whole family', async () => {
    const login = await client.login(adaEmail, PASSWORD);
    const first = await client.refresh(login.refreshToken);
    const second = await client.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await client.me(second.accessToken)).id).toBe(ada.userId);

    await expectRefusal(client.refresh(login.refreshToken), 'refresh_token_reused');
    // The family is gone: its newest refresh token and the access token issued with it stop working too.
    await expectRefusal(client.refresh(second.refreshToken), 'unauthenticated');
    await expectRefusal(client.me(second.accessToken), 'unauthenticated');
    // Other sessions of the user are untouched.
    expect((await client.me(session.accessToken)).id).toBe(ada.userId);
  });

  it('creates a shared project and invites a member, who then sees it too', async () => {
    grace = await client.register(graceEmail, PASSWORD, 'Grace Hopper');
    const project = await client.createProject(session.accessToken, `Vision Research ${door}`);
    projectId = project.id;
    const invited = await client.addMember(session.accessToken, projectId, graceEmail, 'member');
    const seenByOwner = await client.listMembers(session.accessToken, projectId);
    const seenByMember = await client.listMembers(grace.tokens.accessToken, projectId);

    expect(project.myRole).toBe('owner');
    expect(invited).toMatchObject({ userId: grace.userId, email: graceEmail, role: 'member' });
    expect(seenByOwner.map((m) => [m.userId, m.role])).toEqual([
      [ada.userId, 'owner'],
      [grace.userId, 'member'],
    ]);
    expect(seenByMember).toEqual(seenByOwner);
    await expectRefusal(client.addMember(session.accessToken, projectId, graceEmail, 'member'), 'already_exists');
  });

  it('adds SSH keys, lists them with their fingerprints, and refuses the same key twice', async () => {
    const laptop = newSshPublicKey('ada@laptop');
    const desktop = newSshPublicKey('ada@desktop');
    const added = await client.addSshKey(session.accessToken, 'laptop', laptop.line);
    await client.addSshKey(session.accessToken, 'desktop', desktop.line);
    const listed = await client.listSshKeys(session.accessToken);

    expect(added).toMatchObject({ name: 'laptop', fingerprint: laptop.fingerprint });
    expect(listed.map((key) => key.fingerprint).sort()).toEqual([laptop.fingerprint, desktop.fingerprint].sort());
    expect(await client.listSshKeys(grace.tokens.accessToken)).toEqual([]);
    await expectRefusal(client.addSshKey(session.accessToken, 'again', laptop.line), 'already_exists');
  });

  it('logs out, and the access token of that session stops working at once', async () => {
    await client.logout(session.accessToken);

    await expectRefusal(client.me(session.accessToken), 'unauthenticated');
    await expectRefusal(client.refresh(session.refreshToken), 'unauthenticated');
  });

  it('logs in with OIDC: the first login creates the user, a second one with the same subject finds it', async () => {
    const account = oidcAccount(door);
    const loginOnce = async () => {
      stack.idp.loginAs(account.sub);
      const authorizationUrl = await client.startOidcLogin(OIDC_PROVIDER, OIDC_REDIRECT_URI, account.sub);
      const callback = await followAuthorizationRedirects(authorizationUrl, OIDC_REDIRECT_URI);
      const code = callback.searchParams.get('code');
      const state = callback.searchParams.get('state');
      expect(code, callback.toString()).toMatch(/^\S{8,}$/);
      return client.completeOidcLogin(OIDC_PROVIDER, code!, state!, callback.searchParams.get('iss'));
    };

    const first = await client.me((await loginOnce()).accessToken);
    const second = await client.me((await loginOnce()).accessToken);

    expect(first).toMatchObject({ email: account.email, role: 'user', status: 'active', authMethods: [{ type: 'oidc', provider: OIDC_PROVIDER }] });
    expect(second.id).toBe(first.id);
  });

  it('lets an admin suspend a user, whose very next call fails, and audits the suspension', async () => {
    await stack.promoteToAdmin(adaEmail);
    const admin = await client.login(adaEmail, PASSWORD);
    const graceSession = await client.login(graceEmail, PASSWORD);
    expect((await client.me(graceSession.accessToken)).id).toBe(grace.userId);
    const correlationId = `suspend-${tag}-${randomUUID()}`;

    const suspended = await client.suspendUser(admin.accessToken, grace.userId, 'Chargeback under investigation', correlationId);

    expect(suspended.status).toBe('suspended');
    await expectRefusal(client.me(graceSession.accessToken), 'account_suspended');
    await expectRefusal(client.listMembers(grace.tokens.accessToken, projectId), 'account_suspended');
    await expectRefusal(client.login(graceEmail, PASSWORD), 'account_suspended');
    const { rows } = await stack.db.query<{ domain: string; actor_kind: string; actor_id: string; target_id: string; correlation_id: string }>(
      'SELECT domain, actor_kind, actor_id, target_id, correlation_id FROM infra.audit_logs WHERE correlation_id = $1',
      [correlationId],
    );
    expect(rows).toEqual([{ domain: 'access', actor_kind: 'admin', actor_id: ada.userId, target_id: grace.userId, correlation_id: correlationId }]);
  });
});

describe('X-Idempotency-Key through the whole stack', () => {
  const email = 'retry@example.com';
  const rest = (operationId: string, method: string, path: string, request: Parameters<typeof restCall>[4] = {}) => restCall(stack.restUrl, operationId, method, path, request);

  it('replays a retried token refresh instead of treating it as a stolen token', async () => {
    const registered = await rest('registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', { body: { email, password: PASSWORD, display_name: 'Flaky Network' } });
    const { refresh_token: refreshToken } = (registered.json as { tokens: { refresh_token: string } }).tokens;
    const key = randomUUID();
    const refresh = () => rest('refreshToken', 'POST', '/api/v1/auth/token/refresh', { body: { refresh_token: refreshToken }, headers: { 'x-idempotency-key': key } });

    const first = await refresh();
    const retried = await refresh();

    expect(first.status).toBe(200);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.json).toEqual(first.json);
    const { access_token: accessToken } = first.json as { access_token: string };
    expect((await rest('getMe', 'GET', '/api/v1/me', { token: accessToken })).status).toBe(200);
  });

  it('creates one project for a repeated create, and refuses the key with another body', async () => {
    const login = await rest('loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email, password: PASSWORD } });
    const token = (login.json as { access_token: string }).access_token;
    const key = randomUUID();
    const create = (name: string) => rest('createProject', 'POST', '/api/v1/projects', { token, body: { name }, headers: { 'x-idempotency-key': key } });

    const first = await create('Only Once');
    const again = await create('Only Once');
    const other = await create('Something Else');
    const listed = await rest('v3GetAccessMe', 'GET', '/api/v3/access/users/me', { token });

    expect([first.status, again.status, other.status]).toEqual([201, 201, 409]);
    expect((again.json as { id: string }).id).toBe((first.json as { id: string }).id);
    expect(other.json).toMatchObject({ code: 'idempotency_key_reused' });
    const me = listed.json as { projects: Array<{ name: string; personal: boolean }>; project_count: number };
    expect(me.projects.filter((p) => p.name === 'Only Once')).toHaveLength(1);
    expect(me.projects[0]!.personal).toBe(true);
    expect(me.project_count).toBe(2);
  });
});

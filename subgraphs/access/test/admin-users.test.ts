import { randomUUID } from 'node:crypto';
import { createTokenRevocationStore } from '@gpuaas/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_JWT,
  LOGIN,
  PASSWORD,
  TOKEN_FIELDS,
  dataOf,
  errorCode,
  onlyError,
  promoteToAdmin,
  registerUser,
  startAccess,
  uniqueIp,
  type AccessHarness,
  type RegisteredUser,
  type TokenPair,
} from './support/harness.js';

let access: AccessHarness;
let admin: RegisteredUser;

beforeAll(async () => {
  access = await startAccess();
  admin = await promoteToAdmin(access, await registerUser(access, { displayName: 'Operator' }));
});

afterAll(async () => {
  await access?.close();
});

const USER_FIELDS = 'id email displayName role status lastLoginAt suspendedAt suspensionReason projectCount personalProjectId';
const LIST = `query ($first: Int, $after: String, $filter: UserFilter) {
  adminUsers(first: $first, after: $after, filter: $filter) { edges { cursor node { ${USER_FIELDS} } } pageInfo { hasNextPage endCursor } }
}`;
const GET = `query ($id: ID!) { adminUser(id: $id) { ${USER_FIELDS} } }`;
const UPDATE = `mutation ($input: AdminUpdateUserInput!) { adminUpdateUser(input: $input) { ${USER_FIELDS} } }`;
const REVOKE = 'mutation ($input: AdminRevokeUserSessionsInput!) { adminRevokeUserSessions(input: $input) { userId revokedSessions } }';
const ME = '{ me { id role } }';

interface AdminUser {
  id: string;
  email: string;
  displayName: string;
  role: string;
  status: string;
  lastLoginAt: string | null;
  suspendedAt: string | null;
  suspensionReason: string | null;
  projectCount: number;
}

type Listing = { adminUsers: { edges: { cursor: string; node: AdminUser }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

const login = (email: string) => access.gql<{ login: TokenPair }>(LOGIN, { input: { email, password: PASSWORD } }, access.anonymous(uniqueIp()));
const refresh = (refreshToken: string) =>
  access.gql<{ refreshTokens: TokenPair }>(
    `mutation ($input: RefreshTokensInput!) { refreshTokens(input: $input) { ${TOKEN_FIELDS} } }`,
    { input: { refreshToken } },
    access.anonymous(uniqueIp()),
  );

async function auditRows(userId: string) {
  const { rows } = await access.pool.query<{ action: string; actor_kind: string; actor_id: string; correlation_id: string; details: Record<string, unknown> }>(
    "SELECT action, actor_kind, actor_id, correlation_id, details FROM infra.audit_logs WHERE target_type = 'user' AND target_id = $1 ORDER BY occurred_at, id",
    [userId],
  );
  return rows;
}

describe('who may use the operator operations', () => {
  it('refuses a regular user with forbidden and an anonymous caller with unauthenticated', async () => {
    const user = await registerUser(access);
    expect(errorCode(await access.gql(LIST, {}, user.identity))).toBe('forbidden');
    expect(errorCode(await access.gql(GET, { id: user.id }, user.identity))).toBe('forbidden');
    expect(errorCode(await access.gql(UPDATE, { input: { id: user.id, role: 'ADMIN' } }, user.identity))).toBe('forbidden');
    expect(errorCode(await access.gql(REVOKE, { input: { id: user.id, reason: 'because' } }, user.identity))).toBe('forbidden');
    expect(errorCode(await access.gql(LIST, {}))).toBe('unauthenticated');
  });

  it('refuses a token that still says admin after the account was demoted in the database', async () => {
    const other = await promoteToAdmin(access, await registerUser(access));
    await access.pool.query("UPDATE access.users SET role = 'user' WHERE id = $1", [other.id]);
    expect(errorCode(await access.gql(LIST, {}, other.identity))).toBe('forbidden');
  });
});

describe('listing users', () => {
  it('filters by text, status, role and creation time, newest first, in pages', async () => {
    const tag = randomUUID().slice(0, 8);
    const created: RegisteredUser[] = [];
    for (let index = 0; index < 3; index++) created.push(await registerUser(access, { displayName: `Cohort ${tag} ${index}` }));
    const [first, second, third] = created as [RegisteredUser, RegisteredUser, RegisteredUser];
    dataOf(await access.gql(UPDATE, { input: { id: second.id, status: 'SUSPENDED', reason: 'Chargeback under investigation' } }, admin.identity));

    const list = async (variables: Record<string, unknown>) => dataOf(await access.gql<Listing>(LIST, variables, admin.identity)).adminUsers;
    const all = await list({ filter: { q: tag.toUpperCase() } });
    expect(all.edges.map((edge) => edge.node.id)).toEqual([third.id, second.id, first.id]);
    expect(all.edges[0]?.node).toMatchObject({ role: 'USER', status: 'ACTIVE', projectCount: 1, lastLoginAt: expect.any(String) });

    expect((await list({ filter: { q: tag, status: 'SUSPENDED' } })).edges.map((edge) => edge.node.id)).toEqual([second.id]);
    expect((await list({ filter: { q: tag, role: 'ADMIN' } })).edges).toEqual([]);
    const emailMatch = await list({ filter: { q: first.email.slice(0, first.email.indexOf('@')) } });
    expect(emailMatch.edges.map((edge) => edge.node.id)).toEqual([first.id]);

    const { rows } = await access.pool.query<{ created_at: Date }>('SELECT created_at FROM access.users WHERE id = $1', [second.id]);
    const secondCreated = (rows[0] as { created_at: Date }).created_at;
    const since = await list({ filter: { q: tag, createdAfter: secondCreated.toISOString() } });
    expect(since.edges.map((edge) => edge.node.id)).toEqual([third.id, second.id]);
    const before = await list({ filter: { q: tag, createdBefore: secondCreated.toISOString() } });
    expect(before.edges.map((edge) => edge.node.id)).toEqual([first.id]);

    const page1 = await list({ first: 2, filter: { q: tag } });
    const page2 = await list({ first: 2, after: page1.pageInfo.endCursor, filter: { q: tag } });
    expect(page1.pageInfo.hasNextPage).toBe(true);
    expect([...page1.edges, ...page2.edges].map((edge) => edge.node.id)).toEqual([third.id, second.id, first.id]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });

  it('answers an unknown user with not_found', async () => {
    expect(errorCode(await access.gql(GET, { id: randomUUID() }, admin.identity))).toBe('not_found');
    expect(errorCode(await access.gql(GET, { id: 'not-a-uuid' }, admin.identity))).toBe('not_found');
  });
});

describe('suspending a user', () => {
  it('needs a reason', async () => {
    const user = await registerUser(access);
    const error = onlyError(await access.gql(UPDATE, { input: { id: user.id, status: 'SUSPENDED' } }, admin.identity));
    expect(error.extensions?.details?.fields).toEqual([{ field: 'body.reason', message: 'is required when suspending' }]);
  });

  it('writes the audit row in the same transaction and cuts every token of the user at once', async () => {
    const user = await registerUser(access);
    const secondSession = dataOf(await login(user.email)).login;
    const correlationId = `corr-${randomUUID()}`;
    const response = await access.gql<{ adminUpdateUser: AdminUser }>(
      UPDATE,
      { input: { id: user.id, status: 'SUSPENDED', reason: 'Chargeback under investigation' } },
      { ...admin.identity, correlationId },
    );
    expect(dataOf(response).adminUpdateUser).toMatchObject({
      status: 'SUSPENDED',
      suspendedAt: expect.any(String),
      suspensionReason: 'Chargeback under investigation',
    });

    expect(await auditRows(user.id)).toEqual([
      {
        action: 'user.suspend',
        actor_kind: 'admin',
        actor_id: admin.id,
        correlation_id: correlationId,
        details: {
          before: { status: 'active', role: 'user' },
          after: { status: 'suspended', role: 'user' },
          reason: 'Chargeback under investigation',
          revoked_sessions: 2,
        },
      },
    ]);
    // Rows written by one transaction carry its transaction id.
    const { rows } = await access.pool.query<{ same: boolean }>(
      `SELECT (SELECT xmin::text FROM access.users WHERE id = $1) = (SELECT xmin::text FROM infra.audit_logs WHERE target_id = $1::text AND action = 'user.suspend') AS same`,
      [user.id],
    );
    expect(rows[0]?.same).toBe(true);

    const gatewayView = await createTokenRevocationStore(access.redis, 'auth:').check(user.identity);
    expect(gatewayView).toEqual({ revoked: true, reason: 'account_suspended' });
    expect(errorCode(await access.gql(ME, {}, user.identity))).toBe('account_suspended');
    expect(errorCode(await access.gql(ME, {}, await access.identityOf(secondSession.accessToken)))).toBe('account_suspended');
    expect(errorCode(await refresh(secondSession.refreshToken))).toBe('account_suspended');
    expect(errorCode(await login(user.email))).toBe('account_suspended');
  });

  it('reactivates a user who then logs in again, while the old sessions stay revoked', async () => {
    const user = await registerUser(access);
    dataOf(await access.gql(UPDATE, { input: { id: user.id, status: 'SUSPENDED', reason: 'Looking into it' } }, admin.identity));
    const reactivated = dataOf(await access.gql<{ adminUpdateUser: AdminUser }>(UPDATE, { input: { id: user.id, status: 'ACTIVE' } }, admin.identity));
    expect(reactivated.adminUpdateUser).toMatchObject({ status: 'ACTIVE', suspendedAt: null, suspensionReason: null });
    expect((await auditRows(user.id)).map((row) => row.action)).toEqual(['user.suspend', 'user.unsuspend']);

    expect(errorCode(await refresh(user.tokens.refreshToken))).toBe('unauthenticated');
    const fresh = dataOf(await login(user.email)).login;
    expect(dataOf(await access.gql<{ me: { id: string } }>(ME, {}, await access.identityOf(fresh.accessToken))).me.id).toBe(user.id);
  });

  it('treats setting the current values as a no-op without an audit row', async () => {
    const user = await registerUser(access);
    const response = await access.gql<{ adminUpdateUser: AdminUser }>(UPDATE, { input: { id: user.id, status: 'ACTIVE', role: 'USER' } }, admin.identity);
    expect(dataOf(response).adminUpdateUser.status).toBe('ACTIVE');
    expect(await auditRows(user.id)).toEqual([]);
    expect(dataOf(await access.gql<{ me: { id: string } }>(ME, {}, user.identity)).me.id).toBe(user.id);
  });

  it('does not let an admin suspend or demote themselves', async () => {
    expect(errorCode(await access.gql(UPDATE, { input: { id: admin.id, status: 'SUSPENDED', reason: 'Testing myself' } }, admin.identity))).toBe('unprocessable');
    expect(errorCode(await access.gql(UPDATE, { input: { id: admin.id, role: 'USER' } }, admin.identity))).toBe('unprocessable');
  });
});

describe('changing roles and revoking sessions', () => {
  it('promotes a user: old tokens stop working, a new login carries the admin role', async () => {
    const user = await registerUser(access);
    const response = await access.gql<{ adminUpdateUser: AdminUser }>(UPDATE, { input: { id: user.id, role: 'ADMIN', reason: 'New operator' } }, admin.identity);
    expect(dataOf(response).adminUpdateUser.role).toBe('ADMIN');
    expect((await auditRows(user.id)).map((row) => [row.action, row.details['after']])).toEqual([['user.role_change', { status: 'active', role: 'admin' }]]);

    expect(errorCode(await access.gql(ME, {}, user.identity))).toBe('unauthenticated');
    const renewed = dataOf(await refresh(user.tokens.refreshToken)).refreshTokens;
    const identity = await access.identityOf(renewed.accessToken);
    expect(identity.role).toBe('admin');
    expect(dataOf(await access.gql<Listing>(LIST, { first: 1 }, identity)).adminUsers.edges).toHaveLength(1);
  });

  it('logs a user out everywhere, audited with the number of sessions', async () => {
    const user = await registerUser(access);
    const second = dataOf(await login(user.email)).login;
    const response = await access.gql<{ adminRevokeUserSessions: { userId: string; revokedSessions: number } }>(
      REVOKE,
      { input: { id: user.id, reason: 'Password found in a public paste' } },
      admin.identity,
    );
    expect(dataOf(response).adminRevokeUserSessions).toEqual({ userId: user.id, revokedSessions: 2 });
    expect(await auditRows(user.id)).toMatchObject([
      { action: 'user.sessions_revoke', actor_kind: 'admin', actor_id: admin.id, details: { reason: 'Password found in a public paste', revoked_sessions: 2 } },
    ]);
    expect(errorCode(await refresh(user.tokens.refreshToken))).toBe('unauthenticated');
    expect(errorCode(await refresh(second.refreshToken))).toBe('unauthenticated');
    expect(errorCode(await access.gql(ME, {}, user.identity))).toBe('unauthenticated');
    expect(dataOf(await login(user.email)).login.accessToken).toMatch(ACCESS_JWT);
  });

  it('needs a reason of at least three characters', async () => {
    const user = await registerUser(access);
    const error = onlyError(await access.gql(REVOKE, { input: { id: user.id, reason: 'no' } }, admin.identity));
    expect(error.extensions?.details?.fields?.[0]?.field).toBe('body.reason');
  });
});

describe('users referenced by other subgraphs', () => {
  const ENTITIES = 'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id email lastLoginAt suspendedAt } } }';

  it('resolves a user for themself, co-members and operators, and no one else', async () => {
    const user = await registerUser(access);
    const teammate = await registerUser(access);
    const stranger = await registerUser(access);
    const project = dataOf(
      await access.gql<{ createProject: { id: string } }>('mutation { createProject(input: { name: "Team" }) { id } }', {}, user.identity),
    ).createProject;
    dataOf(
      await access.gql(
        'mutation ($input: AddProjectMemberInput!) { addProjectMember(input: $input) { userId } }',
        { input: { projectId: project.id, userId: teammate.id, role: 'VIEWER' } },
        user.identity,
      ),
    );
    const reps = [{ __typename: 'User', id: user.id }];
    type Entities = { _entities: { id: string; email: string; lastLoginAt: string | null; suspendedAt: string | null }[] };

    expect(dataOf(await access.gql<Entities>(ENTITIES, { reps }, user.identity))._entities[0]).toMatchObject({ id: user.id, lastLoginAt: expect.any(String) });
    expect(dataOf(await access.gql<Entities>(ENTITIES, { reps }, teammate.identity))._entities[0]).toMatchObject({ id: user.id, lastLoginAt: null });
    expect(dataOf(await access.gql<Entities>(ENTITIES, { reps }, admin.identity))._entities[0]?.id).toBe(user.id);
    const refused = await access.gql<Entities>(ENTITIES, { reps }, stranger.identity);
    expect(refused.errors?.[0]?.extensions?.code).toBe('not_found');
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContract } from '@gpuaas/rest-adapter/contract';
import type { RestAnswer } from './support/rest-client.js';
import { newSshPublicKey } from './support/ssh-keys.js';
import { OIDC_PROVIDER, startAccessStack, type AccessStack } from './support/stack.js';
import { actors, PASSWORD, projectRoleOf, World, type Actor, type Call } from './support/world.js';

type Expected = Readonly<Record<Actor, number>>;

interface Row {
  readonly operationId: string;
  readonly expected: Expected;
  /** Makes the call as `actor`, setting up whatever this one cell needs (a fresh target, a fresh session…). */
  readonly call: (world: World, actor: Actor, as: Call) => Promise<RestAnswer>;
}

const byActor = (answer: (actor: Actor) => number): Expected => Object.fromEntries(actors.map((actor) => [actor, answer(actor)])) as Expected;
const isMember = (actor: Actor) => projectRoleOf[actor] !== undefined || actor === 'owner';

/** A public operation: the caller's token changes nothing. */
const everyone = (status: number) => byActor(() => status);
/** The caller's own things: anyone logged in. */
const self = (status: number) => byActor((actor) => (actor === 'anonymous' ? 401 : status));
/** The owner's own object: another user's answers like a missing one. */
const ownerOnly = (status: number) => byActor((actor) => (actor === 'anonymous' ? 401 : actor === 'owner' ? status : 404));
/** Reading the project: every member; non-members (platform admins included) see no such project. */
const projectMembers = (status: number) => byActor((actor) => (actor === 'anonymous' ? 401 : isMember(actor) ? status : 404));
/** Managing the project: owner and project admins; other members are refused, non-members see nothing. */
const projectManagers = (status: number) =>
  byActor((actor) => (actor === 'anonymous' ? 401 : actor === 'owner' || actor === 'project admin' ? status : isMember(actor) ? 403 : 404));
/** Only the owner; members are refused, non-members see nothing. */
const projectOwner = (status: number) => byActor((actor) => (actor === 'anonymous' ? 401 : actor === 'owner' ? status : isMember(actor) ? 403 : 404));
/** The operator endpoints. */
const platformAdmins = (status: number) => byActor((actor) => (actor === 'anonymous' ? 401 : actor === 'platform admin' ? status : 403));

const json = (body: unknown) => ({ body });

const rows: Row[] = [
  { operationId: 'listOidcProviders', expected: everyone(200), call: (_w, _a, as) => as('listOidcProviders', 'GET', '/api/v1/auth/oidc/providers') },
  {
    operationId: 'startOidcLogin',
    expected: everyone(302),
    call: (_w, _a, as) => as('startOidcLogin', 'GET', `/api/v1/auth/oidc/${OIDC_PROVIDER}/authorize`),
  },
  {
    operationId: 'completeOidcLogin',
    expected: everyone(401),
    call: (_w, _a, as) => as('completeOidcLogin', 'GET', `/api/v1/auth/oidc/${OIDC_PROVIDER}/callback?code=made-up&state=${randomUUID()}`),
  },
  {
    operationId: 'registerPersonalAccount',
    expected: everyone(201),
    call: (_w, _a, as) =>
      as('registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', json({ email: `new-${randomUUID()}@example.com`, password: PASSWORD, display_name: 'New' })),
  },
  {
    operationId: 'loginPersonal',
    expected: everyone(200),
    call: (w, _a, as) => as('loginPersonal', 'POST', '/api/v1/auth/personal/login', json({ email: w.person('owner').email, password: PASSWORD })),
  },
  {
    operationId: 'requestPasswordReset',
    expected: everyone(202),
    call: (w, _a, as) => as('requestPasswordReset', 'POST', '/api/v1/auth/personal/password-reset', json({ email: w.person('owner').email })),
  },
  {
    operationId: 'confirmPasswordReset',
    expected: everyone(401),
    call: (_w, _a, as) =>
      as('confirmPasswordReset', 'POST', '/api/v1/auth/personal/password-reset/confirm', json({ token: `prt_${randomUUID()}`, new_password: 'another-long-passphrase-42' })),
  },
  {
    operationId: 'refreshToken',
    expected: everyone(401),
    call: (_w, _a, as) => as('refreshToken', 'POST', '/api/v1/auth/token/refresh', json({ refresh_token: `rt_${randomUUID()}.made-up` })),
  },
  { operationId: 'getMe', expected: self(200), call: (_w, _a, as) => as('getMe', 'GET', '/api/v1/me') },
  { operationId: 'updateMe', expected: self(200), call: (_w, actor, as) => as('updateMe', 'PATCH', '/api/v1/me', json({ display_name: actor })) },
  { operationId: 'listSshKeys', expected: self(200), call: (_w, _a, as) => as('listSshKeys', 'GET', '/api/v1/ssh-keys') },
  {
    operationId: 'createSshKey',
    expected: self(201),
    call: (_w, _a, as) => as('createSshKey', 'POST', '/api/v1/ssh-keys', json({ name: 'matrix', public_key: newSshPublicKey().line })),
  },
  { operationId: 'listProjects', expected: self(200), call: (_w, _a, as) => as('listProjects', 'GET', '/api/v1/projects') },
  { operationId: 'createProject', expected: self(201), call: (_w, actor, as) => as('createProject', 'POST', '/api/v1/projects', json({ name: `${actor}'s project` })) },
  { operationId: 'v3ListAccessProjects', expected: self(200), call: (_w, _a, as) => as('v3ListAccessProjects', 'GET', '/api/v3/access/projects') },
  { operationId: 'v3GetAccessMe', expected: self(200), call: (_w, _a, as) => as('v3GetAccessMe', 'GET', '/api/v3/access/users/me') },
  {
    operationId: 'logout',
    expected: self(204),
    // A session of its own, so the actor's main token keeps working for the rest of the matrix.
    call: async (w, actor, as) => {
      if (actor === 'anonymous') return as('logout', 'POST', '/api/v1/auth/logout', json({}));
      const token = await w.login(w.person(actor).email);
      const answer = await w.call(token, 'logout', 'POST', '/api/v1/auth/logout', json({}));
      const after = await w.call(token, 'getMe', 'GET', '/api/v1/me');
      expect(after.status, `${actor}'s logged-out token`).toBe(401);
      return answer;
    },
  },
  { operationId: 'getSshKey', expected: ownerOnly(200), call: (w, _a, as) => as('getSshKey', 'GET', `/api/v1/ssh-keys/${w.sshKeyId}`) },
  // The owner comes last in every row, so the owner's own deletion runs after everybody else was refused.
  { operationId: 'deleteSshKey', expected: ownerOnly(204), call: (w, _a, as) => as('deleteSshKey', 'DELETE', `/api/v1/ssh-keys/${w.sshKeyId}`) },
  { operationId: 'getProject', expected: projectMembers(200), call: (w, _a, as) => as('getProject', 'GET', `/api/v1/projects/${w.projectId}`) },
  { operationId: 'listProjectMembers', expected: projectMembers(200), call: (w, _a, as) => as('listProjectMembers', 'GET', `/api/v1/projects/${w.projectId}/members`) },
  { operationId: 'v3GetAccessProject', expected: projectMembers(200), call: (w, _a, as) => as('v3GetAccessProject', 'GET', `/api/v3/access/projects/${w.projectId}`) },
  {
    operationId: 'updateProject',
    expected: projectManagers(200),
    call: (w, actor, as) => as('updateProject', 'PATCH', `/api/v1/projects/${w.projectId}`, json({ name: `Renamed by ${actor}` })),
  },
  {
    operationId: 'addProjectMember',
    expected: projectManagers(201),
    call: async (w, _a, as) => {
      const recruit = await w.newPerson('recruit');
      return as('addProjectMember', 'POST', `/api/v1/projects/${w.projectId}/members`, json({ email: recruit.email, role: 'member' }));
    },
  },
  {
    operationId: 'updateProjectMember',
    expected: projectManagers(200),
    call: async (w, _a, as) => {
      const target = await w.addMember(w.projectId, (await w.newPerson('target')).email, 'member');
      return as('updateProjectMember', 'PATCH', `/api/v1/projects/${w.projectId}/members/${target}`, json({ role: 'viewer' }));
    },
  },
  {
    operationId: 'removeProjectMember',
    expected: projectManagers(204),
    call: async (w, _a, as) => {
      const target = await w.addMember(w.projectId, (await w.newPerson('target')).email, 'member');
      return as('removeProjectMember', 'DELETE', `/api/v1/projects/${w.projectId}/members/${target}`);
    },
  },
  {
    operationId: 'deleteProject',
    expected: projectOwner(204),
    call: async (w, actor, as) => {
      const projectId = await w.newProject();
      const role = projectRoleOf[actor];
      if (role) await w.addMember(projectId, w.person(actor).email, role);
      return as('deleteProject', 'DELETE', `/api/v1/projects/${projectId}`);
    },
  },
  { operationId: 'adminListUsers', expected: platformAdmins(200), call: (_w, _a, as) => as('adminListUsers', 'GET', '/api/v1/admin/users') },
  { operationId: 'adminGetUser', expected: platformAdmins(200), call: (w, _a, as) => as('adminGetUser', 'GET', `/api/v1/admin/users/${w.person('owner').id}`) },
  {
    operationId: 'adminUpdateUser',
    expected: platformAdmins(200),
    call: async (w, _a, as) => {
      const target = await w.newPerson('suspect');
      return as('adminUpdateUser', 'PATCH', `/api/v1/admin/users/${target.id}`, json({ status: 'suspended', reason: 'Matrix check' }));
    },
  },
  {
    operationId: 'adminRevokeUserSessions',
    expected: platformAdmins(200),
    call: async (w, _a, as) => {
      const target = await w.newPerson('leaked');
      return as('adminRevokeUserSessions', 'POST', `/api/v1/admin/users/${target.id}/sessions/revoke`, json({ reason: 'Matrix check' }));
    },
  },
  {
    operationId: 'changeMyPassword',
    expected: self(204),
    // Last: the actor's password changes (its current session stays valid).
    call: (_w, _a, as) => as('changeMyPassword', 'POST', '/api/v1/me/password', json({ current_password: PASSWORD, new_password: 'a-brand-new-passphrase-42' })),
  },
];

let stack: AccessStack;
let world: World;

beforeAll(async () => {
  // Every request here comes from 127.0.0.1; the per-IP limits are not what this file checks.
  stack = await startAccessStack({ oidcAccounts: [], accessEnv: { POLICY_LOGIN_ATTEMPTS_PER_IP_PER_15M: '100000' } });
  world = await World.create(stack);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('the authorization matrix of the access operations', () => {
  it('covers every access operation', () => {
    const accessOperations = loadContract()
      .operations.filter((o) => o.tags.includes('access'))
      .map((o) => o.operationId)
      .sort();
    expect(rows.map((row) => row.operationId).sort()).toEqual(accessOperations);
  });

  describe.each(rows.map((row) => [row.operationId, row] as const))('%s', (_operationId, row) => {
    it.each(actors.map((actor) => [actor, row.expected[actor]] as const))('as %s answers %i', async (actor, status) => {
      const answer = await row.call(world, actor, world.as(actor));

      expect(answer.status, answer.text).toBe(status);
    });
  });
});

describe("another user's object", () => {
  const missing = randomUUID();
  const cases: Array<[string, (w: World, id: string) => Promise<RestAnswer>]> = [
    ['getProject', (w, id) => w.as('other user')('getProject', 'GET', `/api/v1/projects/${id}`)],
    ['v3GetAccessProject', (w, id) => w.as('other user')('v3GetAccessProject', 'GET', `/api/v3/access/projects/${id}`)],
    ['listProjectMembers', (w, id) => w.as('other user')('listProjectMembers', 'GET', `/api/v1/projects/${id}/members`)],
    ['updateProject', (w, id) => w.as('other user')('updateProject', 'PATCH', `/api/v1/projects/${id}`, json({ name: 'Mine now' }))],
    ['deleteProject', (w, id) => w.as('other user')('deleteProject', 'DELETE', `/api/v1/projects/${id}`)],
    ['addProjectMember', (w, id) => w.as('other user')('addProjectMember', 'POST', `/api/v1/projects/${id}/members`, json({ email: w.person('other user').email, role: 'admin' }))],
    [
      'updateProjectMember',
      (w, id) => w.as('other user')('updateProjectMember', 'PATCH', `/api/v1/projects/${id}/members/${w.person('project member').id}`, json({ role: 'admin' })),
    ],
    ['removeProjectMember', (w, id) => w.as('other user')('removeProjectMember', 'DELETE', `/api/v1/projects/${id}/members/${w.person('project member').id}`)],
  ];

  it.each(cases)('answers %s exactly like a missing project', async (_operationId, call) => {
    const project = await world.newProject();
    await world.addMember(project, world.person('project member').email, 'member');
    const theirs = await call(world, project);
    const nothing = await call(world, missing);

    expect(theirs.status, theirs.text).toBe(404);
    expect(comparable(theirs)).toEqual(comparable(nothing));
  });

  it.each([
    ['getSshKey', 'GET'],
    ['deleteSshKey', 'DELETE'],
  ] as const)('answers %s exactly like a missing SSH key', async (operationId, method) => {
    const key = await world.as('owner')('createSshKey', 'POST', '/api/v1/ssh-keys', json({ name: `private ${operationId}`, public_key: newSshPublicKey().line }));
    expect(key.status, key.text).toBe(201);
    const keyId = (key.json as { id: string }).id;
    const theirs = await world.as('other user')(operationId, method, `/api/v1/ssh-keys/${keyId}`);
    const nothing = await world.as('other user')(operationId, method, `/api/v1/ssh-keys/${missing}`);

    expect(theirs.status, theirs.text).toBe(404);
    expect(comparable(theirs)).toEqual(comparable(nothing));
    expect((await world.as('owner')('getSshKey', 'GET', `/api/v1/ssh-keys/${keyId}`)).status).toBe(200);
  });
});

/** Status, code, message and details: everything but the correlation id, which differs per request. */
function comparable(answer: RestAnswer): unknown {
  const { correlation_id: _differs, ...rest } = answer.json as Record<string, unknown>;
  return { status: answer.status, ...rest };
}

describe('the largest page the contract allows', () => {
  const lists: Array<[string, Actor, (w: World) => string]> = [
    ['listOidcProviders', 'anonymous', () => '/api/v1/auth/oidc/providers'],
    ['listSshKeys', 'owner', () => '/api/v1/ssh-keys'],
    ['listProjects', 'owner', () => '/api/v1/projects'],
    ['listProjectMembers', 'owner', (w) => `/api/v1/projects/${w.projectId}/members`],
    ['v3ListAccessProjects', 'owner', () => '/api/v3/access/projects'],
    ['adminListUsers', 'platform admin', () => '/api/v1/admin/users'],
  ];

  it.each(lists)('is served by %s (limit=200)', async (operationId, actor, path) => {
    const answer = await world.as(actor)(operationId, 'GET', `${path(world)}?limit=200`);

    expect(answer.status, answer.text).toBe(200);
  });
});

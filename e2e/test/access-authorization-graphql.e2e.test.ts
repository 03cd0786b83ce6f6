import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '@gpuaas/errors';
import { errorCodes, postGraphql, type GraphqlAnswer } from './support/graphql-answer.js';
import { graphqlAccessClient } from './support/graphql-client.js';
import { newSshPublicKey } from './support/ssh-keys.js';
import { OIDC_PROVIDER, OIDC_REDIRECT_URI, startAccessStack, type AccessStack } from './support/stack.js';
import { actors, PASSWORD, projectRoleOf, World, type Actor, type Person } from './support/world.js';

const SCHEMA = new URL('../../subgraphs/access/schema.graphql', import.meta.url);

type Outcome = 'allowed' | ErrorCode;
type Expected = Readonly<Record<Actor, Outcome>>;
type Variables = Record<string, unknown>;
type RootField = `${'Query' | 'Mutation'}.${string}`;

interface Row {
  readonly field: RootField;
  readonly document: string;
  readonly expected: Expected;
  /** This cell's variables; destructive rows make a fresh target here so cells stay independent. */
  readonly variables?: (world: World, actor: Actor) => Promise<Variables> | Variables;
  /** A session other than the actor's main one, for operations that end the session they run in. */
  readonly token?: (world: World, actor: Actor) => Promise<string | undefined>;
  /** Checks the effect after the call: present when allowed, absent when refused. */
  readonly after?: (world: World, actor: Actor, outcome: Outcome, variables: Variables) => Promise<void>;
}

const byActor = (answer: (actor: Actor) => Outcome): Expected => Object.fromEntries(actors.map((actor) => [actor, answer(actor)])) as Expected;
const isMember = (actor: Actor) => actor === 'owner' || projectRoleOf[actor] !== undefined;

/** A public operation: the caller's token changes nothing. */
const everyone = (outcome: Outcome) => byActor(() => outcome);
/** The caller's own things: anyone signed in. */
const self = byActor((actor) => (actor === 'anonymous' ? 'unauthenticated' : 'allowed'));
/** The owner's own object: anybody else's answer is a missing one's. */
const ownerOnly = byActor((actor) => (actor === 'anonymous' ? 'unauthenticated' : actor === 'owner' ? 'allowed' : 'not_found'));
/** Reading the project: every member; non-members (platform admins included) see no such project. */
const projectMembers = byActor((actor) => (actor === 'anonymous' ? 'unauthenticated' : isMember(actor) ? 'allowed' : 'not_found'));
/** Managing the project: owner and project admins; other members are refused, non-members see nothing. */
const projectManagers = byActor((actor) =>
  actor === 'anonymous' ? 'unauthenticated' : actor === 'owner' || actor === 'project admin' ? 'allowed' : isMember(actor) ? 'forbidden' : 'not_found',
);
/** Only the owner; members are refused, non-members see nothing. */
const projectOwner = byActor((actor) => (actor === 'anonymous' ? 'unauthenticated' : actor === 'owner' ? 'allowed' : isMember(actor) ? 'forbidden' : 'not_found'));
/** The operator fields. */
const platformAdmins = byActor((actor) => (actor === 'anonymous' ? 'unauthenticated' : actor === 'platform admin' ? 'allowed' : 'forbidden'));

const tokenOf = (world: World, actor: Actor) => (actor === 'anonymous' ? undefined : world.person(actor).token);
const gql = (world: World, token: string | undefined, document: string, variables: Variables = {}) => postGraphql(world.stack.graphqlUrl, document, variables, token);

/** Allowed: no error and the root field answered. Refused: exactly one error with the catalog code, and no data. */
function expectOutcome(answer: GraphqlAnswer, fieldName: string, outcome: Outcome): void {
  if (outcome === 'allowed') {
    expect(answer.errors, answer.text).toBeUndefined();
    expect(answer.data?.[fieldName], answer.text).toBeDefined();
    expect(answer.data?.[fieldName], answer.text).not.toBeNull();
  } else {
    expect(errorCodes(answer), answer.text).toEqual([outcome]);
    expect(answer.data ?? null, answer.text).toBeNull();
  }
}

const SSH_KEY = 'query($id: ID!) { sshKey(id: $id) { id } }';
const PROJECT = 'query($id: ID!) { project(id: $id) { id name members { edges { node { userId role } } } } }';
const ME = '{ me { id status } }';
const NEW_PASSWORD = 'a-brand-new-passphrase-42';

/** A fresh key of the owner's, for cells that delete one. */
async function ownerKey(world: World): Promise<string> {
  const answer = await gql(world, tokenOf(world, 'owner'), 'mutation($input: CreateSshKeyInput!) { createSshKey(input: $input) { id } }', {
    input: { name: `cell ${randomUUID().slice(0, 8)}`, publicKey: newSshPublicKey().line },
  });
  expect(answer.errors, answer.text).toBeUndefined();
  return (answer.data?.['createSshKey'] as { id: string }).id;
}

async function memberIds(world: World, projectId: string): Promise<string[]> {
  const answer = await gql(world, tokenOf(world, 'owner'), PROJECT, { id: projectId });
  expect(answer.errors, answer.text).toBeUndefined();
  return (answer.data?.['project'] as { members: { edges: Array<{ node: { userId: string } }> } }).members.edges.map((edge) => edge.node.userId);
}

async function adminView(world: World, userId: string): Promise<{ status: string }> {
  const answer = await gql(world, tokenOf(world, 'platform admin'), 'query($id: ID!) { adminUser(id: $id) { status } }', { id: userId });
  expect(answer.errors, answer.text).toBeUndefined();
  return answer.data?.['adminUser'] as { status: string };
}

/** The person whose credentials the public rows use, so no actor's own password or sessions are involved. */
let subject: Person;

const rows: Row[] = [
  { field: 'Query.me', expected: self, document: '{ me { id email role status personalProjectId authMethods { type } projectCount sshKeyCount lastLoginAt } }' },
  { field: 'Query.oidcProviders', expected: everyone('allowed'), document: '{ oidcProviders { edges { node { id displayName } } pageInfo { hasNextPage } } }' },
  { field: 'Query.sshKeys', expected: self, document: '{ sshKeys(first: 50) { edges { node { id fingerprint } } pageInfo { hasNextPage } } }' },
  {
    field: 'Query.sshKey',
    expected: ownerOnly,
    document: 'query($id: ID!) { sshKey(id: $id) { id name algorithm fingerprint publicKey } }',
    variables: (w) => ({ id: w.sshKeyId }),
  },
  { field: 'Query.projects', expected: self, document: '{ projects(first: 50) { edges { node { id name myRole } } pageInfo { hasNextPage } } }' },
  {
    field: 'Query.project',
    expected: projectMembers,
    document: 'query($id: ID!) { project(id: $id) { id name myRole memberCount owner { userId } members { edges { node { userId role } } } } }',
    variables: (w) => ({ id: w.projectId }),
  },
  {
    field: 'Query.adminUsers',
    expected: platformAdmins,
    document: '{ adminUsers(first: 50) { edges { node { id email status suspendedAt } } pageInfo { hasNextPage } } }',
  },
  {
    field: 'Query.adminUser',
    expected: platformAdmins,
    document: 'query($id: ID!) { adminUser(id: $id) { id email status suspendedAt lastLoginAt projects { edges { node { id } } } } }',
    variables: (w) => ({ id: w.person('owner').id }),
  },
  {
    field: 'Mutation.register',
    expected: everyone('allowed'),
    document: 'mutation($input: RegisterInput!) { register(input: $input) { user { id } tokens { accessToken refreshToken } } }',
    variables: () => ({ input: { email: `new-${randomUUID()}@example.com`, password: PASSWORD, displayName: 'New' } }),
  },
  {
    field: 'Mutation.login',
    expected: everyone('allowed'),
    document: 'mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }',
    variables: () => ({ input: { email: subject.email, password: PASSWORD } }),
  },
  {
    field: 'Mutation.requestPasswordReset',
    expected: everyone('allowed'),
    document: 'mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) }',
    variables: () => ({ input: { email: subject.email } }),
  },
  {
    // Anyone may try; a made-up reset token is refused alike whoever sends it.
    field: 'Mutation.confirmPasswordReset',
    expected: everyone('invalid_credentials'),
    document: 'mutation($input: ConfirmPasswordResetInput!) { confirmPasswordReset(input: $input) }',
    variables: () => ({ input: { token: `prt_${randomUUID()}`, newPassword: NEW_PASSWORD } }),
  },
  {
    field: 'Mutation.refreshTokens',
    expected: everyone('allowed'),
    document: 'mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { accessToken refreshToken } }',
    variables: async (w) => ({ input: { refreshToken: (await graphqlAccessClient(w.stack.graphqlUrl).login(subject.email, PASSWORD)).refreshToken } }),
  },
  {
    field: 'Mutation.logout',
    expected: self,
    document: 'mutation { logout(input: {}) }',
    // A session of its own, so the actor's main token keeps working for the rest of the matrix.
    token: async (w, actor) => (actor === 'anonymous' ? undefined : w.login(w.person(actor).email)),
    after: async (w, actor, outcome) => {
      if (outcome !== 'allowed') return;
      expect(errorCodes(await gql(w, tokenOf(w, actor), ME)), `${actor}'s main session`).toEqual([]);
    },
  },
  {
    field: 'Mutation.startOidcLogin',
    expected: everyone('allowed'),
    document: 'mutation($input: StartOidcLoginInput!) { startOidcLogin(input: $input) { authorizationUrl state } }',
    variables: () => ({ input: { provider: OIDC_PROVIDER, redirectUri: OIDC_REDIRECT_URI } }),
  },
  {
    // A state the platform never issued is refused alike whoever sends it (401, as through REST).
    field: 'Mutation.completeOidcLogin',
    expected: everyone('invalid_credentials'),
    document: 'mutation($input: CompleteOidcLoginInput!) { completeOidcLogin(input: $input) { accessToken } }',
    variables: () => ({ input: { provider: OIDC_PROVIDER, code: 'made-up', state: randomUUID() } }),
  },
  {
    field: 'Mutation.updateMe',
    expected: self,
    document: 'mutation($input: UpdateMeInput!) { updateMe(input: $input) { id displayName } }',
    variables: (_w, actor) => ({ input: { displayName: `Renamed ${actor}` } }),
  },
  {
    field: 'Mutation.changePassword',
    expected: self,
    document: 'mutation($input: ChangePasswordInput!) { changePassword(input: $input) }',
    variables: () => ({ input: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } }),
    // The new password logs in; then the old one is put back so the other rows can log the actor in.
    after: async (w, actor, outcome) => {
      if (outcome !== 'allowed') return;
      await graphqlAccessClient(w.stack.graphqlUrl).login(w.person(actor).email, NEW_PASSWORD);
      const back = await gql(w, tokenOf(w, actor), 'mutation($input: ChangePasswordInput!) { changePassword(input: $input) }', {
        input: { currentPassword: NEW_PASSWORD, newPassword: PASSWORD },
      });
      expect(back.errors, back.text).toBeUndefined();
    },
  },
  {
    field: 'Mutation.createSshKey',
    expected: self,
    document: 'mutation($input: CreateSshKeyInput!) { createSshKey(input: $input) { id fingerprint } }',
    variables: () => ({ input: { name: 'matrix', publicKey: newSshPublicKey().line } }),
  },
  {
    field: 'Mutation.deleteSshKey',
    expected: ownerOnly,
    document: 'mutation($input: DeleteSshKeyInput!) { deleteSshKey(input: $input) }',
    variables: async (w) => ({ input: { id: await ownerKey(w) } }),
    after: async (w, _actor, outcome, variables) => {
      const still = await gql(w, tokenOf(w, 'owner'), SSH_KEY, { id: (variables['input'] as { id: string }).id });
      expect(errorCodes(still), still.text).toEqual(outcome === 'allowed' ? ['not_found'] : []);
    },
  },
  {
    field: 'Mutation.createProject',
    expected: self,
    document: 'mutation($input: CreateProjectInput!) { createProject(input: $input) { id myRole } }',
    variables: (_w, actor) => ({ input: { name: `${actor}'s project` } }),
  },
  {
    field: 'Mutation.updateProject',
    expected: projectManagers,
    document: 'mutation($input: UpdateProjectInput!) { updateProject(input: $input) { id name } }',
    variables: (w, actor) => ({ input: { id: w.projectId, name: `Renamed by ${actor}` } }),
  },
  {
    field: 'Mutation.deleteProject',
    expected: projectOwner,
    document: 'mutation($input: DeleteProjectInput!) { deleteProject(input: $input) }',
    // A fresh project with the actor at its role, so every cell deletes (or fails to delete) its own.
    variables: async (w, actor) => {
      const projectId = await w.newProject();
      const role = projectRoleOf[actor];
      if (role) await w.addMember(projectId, w.person(actor).email, role);
      return { input: { id: projectId } };
    },
    after: async (w, _actor, outcome, variables) => {
      const still = await gql(w, tokenOf(w, 'owner'), PROJECT, { id: (variables['input'] as { id: string }).id });
      expect(errorCodes(still), still.text).toEqual(outcome === 'allowed' ? ['not_found'] : []);
    },
  },
  {
    field: 'Mutation.addProjectMember',
    expected: projectManagers,
    document: 'mutation($input: AddProjectMemberInput!) { addProjectMember(input: $input) { userId role } }',
    variables: async (w) => ({ input: { projectId: w.projectId, email: (await w.newPerson('recruit')).email, role: 'MEMBER' } }),
  },
  {
    field: 'Mutation.updateProjectMember',
    expected: projectManagers,
    document: 'mutation($input: UpdateProjectMemberInput!) { updateProjectMember(input: $input) { userId role } }',
    variables: async (w) => ({ input: { projectId: w.projectId, userId: await w.addMember(w.projectId, (await w.newPerson('target')).email, 'member'), role: 'VIEWER' } }),
  },
  {
    field: 'Mutation.removeProjectMember',
    expected: projectManagers,
    document: 'mutation($input: RemoveProjectMemberInput!) { removeProjectMember(input: $input) }',
    variables: async (w) => ({ input: { projectId: w.projectId, userId: await w.addMember(w.projectId, (await w.newPerson('target')).email, 'member') } }),
    after: async (w, _actor, outcome, variables) => {
      const { projectId, userId } = variables['input'] as { projectId: string; userId: string };
      expect((await memberIds(w, projectId)).includes(userId)).toBe(outcome !== 'allowed');
    },
  },
  {
    field: 'Mutation.adminUpdateUser',
    expected: platformAdmins,
    document: 'mutation($input: AdminUpdateUserInput!) { adminUpdateUser(input: $input) { id status suspensionReason } }',
    variables: async (w) => ({ input: { id: (await w.newPerson('suspect')).id, status: 'SUSPENDED', reason: 'Matrix check' } }),
    after: async (w, _actor, outcome, variables) => {
      const { status } = await adminView(w, (variables['input'] as { id: string }).id);
      expect(status).toBe(outcome === 'allowed' ? 'SUSPENDED' : 'ACTIVE');
    },
  },
  {
    field: 'Mutation.adminRevokeUserSessions',
    expected: platformAdmins,
    document: 'mutation($input: AdminRevokeUserSessionsInput!) { adminRevokeUserSessions(input: $input) { userId revokedSessions } }',
    variables: async (w) => ({ input: { id: (await w.newPerson('leaked')).id, reason: 'Matrix check' } }),
  },
];

/** The one root field a row's document selects, as `Query.x` / `Mutation.x`. */
function rootFieldOf(document: string): RootField {
  const operations = parse(document).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const [operation] = operations;
  const selections = operation?.selectionSet.selections ?? [];
  const [selection] = selections;
  if (operations.length !== 1 || selections.length !== 1 || selection?.kind !== Kind.FIELD) throw new Error(`one operation with one root field expected: ${document}`);
  return `${operation?.operation === 'mutation' ? 'Mutation' : 'Query'}.${selection.name.value}`;
}

function schemaRootFields(): RootField[] {
  const fields: RootField[] = [];
  for (const definition of parse(readFileSync(SCHEMA, 'utf8')).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const type = definition.name.value;
    if (type !== 'Query' && type !== 'Mutation') continue;
    for (const field of definition.fields ?? []) fields.push(`${type}.${field.name.value}`);
  }
  return fields.sort();
}

let stack: AccessStack;
let world: World;

beforeAll(async () => {
  // Every request here comes from 127.0.0.1 and the public rows reuse one account; limits are not what this file checks.
  stack = await startAccessStack({
    oidcAccounts: [],
    accessEnv: { POLICY_LOGIN_ATTEMPTS_PER_IP_PER_15M: '100000', POLICY_LOGIN_ATTEMPTS_PER_ACCOUNT_PER_15M: '100000' },
  });
  world = await World.create(stack);
  subject = await world.newPerson('login subject');
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('the authorization matrix of the access fields through GraphQL', () => {
  it('has one row for every Query and Mutation field of the access schema', () => {
    expect(rows.map((row) => row.field).sort()).toEqual(schemaRootFields());
  });

  it.each(rows.map((row) => [row.field, row] as const))("selects exactly %s in its row's document", (field, row) => {
    expect(rootFieldOf(row.document)).toBe(field);
  });

  describe.each(rows.map((row) => [row.field, row] as const))('%s', (field, row) => {
    const fieldName = field.slice(field.indexOf('.') + 1);

    it.each(actors.map((actor) => [actor, row.expected[actor]] as const))('as %s: %s', async (actor, outcome) => {
      const variables = (await row.variables?.(world, actor)) ?? {};
      const token = row.token ? await row.token(world, actor) : tokenOf(world, actor);
      const answer = await gql(world, token, row.document, variables);

      expectOutcome(answer, fieldName, outcome);
      await row.after?.(world, actor, outcome, variables);
    });
  });
});

describe("another user's object through GraphQL", () => {
  const missing = randomUUID();
  const asStranger = (document: string, variables: Variables) => gql(world, tokenOf(world, 'other user'), document, variables);
  const projectCases: Array<[string, (projectId: string) => Promise<GraphqlAnswer>]> = [
    ['project', (id) => asStranger(PROJECT, { id })],
    ['updateProject', (id) => asStranger('mutation($i: UpdateProjectInput!) { updateProject(input: $i) { id } }', { i: { id, name: 'Mine now' } })],
    ['deleteProject', (id) => asStranger('mutation($i: DeleteProjectInput!) { deleteProject(input: $i) }', { i: { id } })],
    [
      'addProjectMember',
      (id) => asStranger('mutation($i: AddProjectMemberInput!) { addProjectMember(input: $i) { userId } }', { i: { projectId: id, email: world.person('other user').email, role: 'ADMIN' } }),
    ],
    [
      'updateProjectMember',
      (id) =>
        asStranger('mutation($i: UpdateProjectMemberInput!) { updateProjectMember(input: $i) { userId } }', {
          i: { projectId: id, userId: world.person('project member').id, role: 'ADMIN' },
        }),
    ],
    [
      'removeProjectMember',
      (id) => asStranger('mutation($i: RemoveProjectMemberInput!) { removeProjectMember(input: $i) }', { i: { projectId: id, userId: world.person('project member').id } }),
    ],
  ];

  it.each(projectCases)('answers %s exactly like a missing project', async (_field, call) => {
    const project = await world.newProject();
    await world.addMember(project, world.person('project member').email, 'member');
    const theirs = await call(project);
    const nothing = await call(missing);

    expect(errorCodes(theirs), theirs.text).toEqual(['not_found']);
    expect(comparable(theirs)).toEqual(comparable(nothing));
    expect(await memberIds(world, project)).toContain(world.person('project member').id);
  });

  it.each([
    ['sshKey', SSH_KEY],
    ['deleteSshKey', 'mutation($id: ID!) { deleteSshKey(input: { id: $id }) }'],
  ] as const)('answers %s exactly like a missing SSH key', async (_field, document) => {
    const keyId = await ownerKey(world);
    const theirs = await asStranger(document, { id: keyId });
    const nothing = await asStranger(document, { id: missing });

    expect(errorCodes(theirs), theirs.text).toEqual(['not_found']);
    expect(comparable(theirs)).toEqual(comparable(nothing));
    expect(errorCodes(await gql(world, tokenOf(world, 'owner'), SSH_KEY, { id: keyId }))).toEqual([]);
  });
});

/** Code, message, path, data and every extension but the per-request correlation id. */
function comparable(answer: GraphqlAnswer): unknown {
  return {
    status: answer.status,
    data: answer.data ?? null,
    errors: (answer.errors ?? []).map(({ extensions = {}, ...error }) => {
      const { correlation_id: _a, correlationId: _b, ...rest } = extensions;
      return { ...error, extensions: rest };
    }),
  };
}

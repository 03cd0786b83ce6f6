import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, errorCode, onlyError, registerUser, startAccess, uniqueEmail, type AccessHarness, type RegisteredUser } from './support/harness.js';

let access: AccessHarness;

beforeAll(async () => {
  access = await startAccess();
});

afterAll(async () => {
  await access?.close();
});

const PROJECT_FIELDS = 'id name slug ownerId personal myRole memberCount owner { userId role }';
const CREATE = `mutation ($input: CreateProjectInput!) { createProject(input: $input) { ${PROJECT_FIELDS} } }`;
const GET = `query ($id: ID!) { project(id: $id) { ${PROJECT_FIELDS} } }`;
const UPDATE = `mutation ($input: UpdateProjectInput!) { updateProject(input: $input) { ${PROJECT_FIELDS} } }`;
const DELETE = 'mutation ($id: ID!) { deleteProject(input: { id: $id }) }';
const MEMBERS = 'query ($id: ID!, $first: Int, $after: String, $role: ProjectRole) { project(id: $id) { members(first: $first, after: $after, role: $role) { edges { cursor node { userId email role } } pageInfo { hasNextPage endCursor } } } }';
const ADD = 'mutation ($input: AddProjectMemberInput!) { addProjectMember(input: $input) { userId email displayName role addedAt } }';
const CHANGE = 'mutation ($input: UpdateProjectMemberInput!) { updateProjectMember(input: $input) { userId role } }';
const REMOVE = 'mutation ($input: RemoveProjectMemberInput!) { removeProjectMember(input: $input) }';

type Role = 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER';
type Actor = Role | 'OUTSIDER';

interface ProjectResult {
  id: string;
  name: string;
  slug: string | null;
  ownerId: string;
  personal: boolean;
  myRole: Role;
  memberCount: number;
  owner: { userId: string; role: Role };
}

interface Team {
  projectId: string;
  members: Record<Actor, RegisteredUser>;
}

async function createProject(owner: RegisteredUser, name: string, slug?: string): Promise<ProjectResult> {
  return dataOf(await access.gql<{ createProject: ProjectResult }>(CREATE, { input: { name, ...(slug ? { slug } : {}) } }, owner.identity)).createProject;
}

async function add(actor: RegisteredUser, projectId: string, target: { email?: string; userId?: string }, role: Role) {
  return access.gql<{ addProjectMember: { userId: string; role: Role } }>(ADD, { input: { projectId, ...target, role } }, actor.identity);
}

/** A shared project with one user in each role, and one outsider. */
async function createTeam(): Promise<Team> {
  const [owner, admin, member, viewer, outsider] = await Promise.all([0, 1, 2, 3, 4].map(() => registerUser(access)));
  const project = await createProject(owner as RegisteredUser, 'Vision Research');
  dataOf(await add(owner as RegisteredUser, project.id, { email: (admin as RegisteredUser).email }, 'ADMIN'));
  dataOf(await add(owner as RegisteredUser, project.id, { userId: (member as RegisteredUser).id }, 'MEMBER'));
  dataOf(await add(owner as RegisteredUser, project.id, { email: (viewer as RegisteredUser).email.toUpperCase() }, 'VIEWER'));
  return {
    projectId: project.id,
    members: { OWNER: owner, ADMIN: admin, MEMBER: member, VIEWER: viewer, OUTSIDER: outsider } as Record<Actor, RegisteredUser>,
  };
}

async function auditActions(projectId: string): Promise<string[]> {
  const { rows } = await access.pool.query<{ action: string }>(
    "SELECT action FROM infra.audit_logs WHERE target_type = 'project' AND target_id = $1 ORDER BY occurred_at, id",
    [projectId],
  );
  return rows.map((row) => row.action);
}

describe('creating and reading projects', () => {
  it('makes the creator the owner of a shared project', async () => {
    const owner = await registerUser(access);
    const slug = `vision-${Date.now().toString(36)}`;
    const project = await createProject(owner, '  Vision Research ', slug);
    expect(project).toEqual({
      id: expect.any(String),
      name: 'Vision Research',
      slug,
      ownerId: owner.id,
      personal: false,
      myRole: 'OWNER',
      memberCount: 1,
      owner: { userId: owner.id, role: 'OWNER' },
    });
  });

  it('refuses a slug another project uses, and malformed slugs and names', async () => {
    const owner = await registerUser(access);
    const slug = `taken-${Date.now().toString(36)}`;
    await createProject(owner, 'First', slug);
    const taken = onlyError(await access.gql(CREATE, { input: { name: 'Second', slug } }, owner.identity));
    expect(taken.extensions?.code).toBe('already_exists');
    const invalid = onlyError(await access.gql(CREATE, { input: { name: ' ', slug: 'Bad Slug!' } }, owner.identity));
    expect(invalid.extensions?.details?.fields?.map((issue) => issue.field)).toEqual(['body.name', 'body.slug']);
  });

  it('lists the caller’s projects newest first with filters and pages', async () => {
    const user = await registerUser(access);
    const alpha = await createProject(user, 'Alpha lab');
    const beta = await createProject(user, 'Beta lab');
    const other = await registerUser(access);
    const shared = await createProject(other, 'Shared thing');
    dataOf(await add(other, shared.id, { userId: user.id }, 'VIEWER'));
    type Listing = { projects: { edges: { node: { id: string; myRole: Role } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const list = async (args: Record<string, unknown>) =>
      dataOf(
        await access.gql<Listing>(
          'query ($first: Int, $after: String, $personal: Boolean, $role: ProjectRole, $q: String) { projects(first: $first, after: $after, personal: $personal, role: $role, q: $q) { edges { node { id myRole } } pageInfo { hasNextPage endCursor } } }',
          args,
          user.identity,
        ),
      ).projects;

    const all = await list({});
    expect(all.edges.map((edge) => edge.node.id)).toEqual([shared.id, beta.id, alpha.id, user.personalProjectId]);
    expect((await list({ personal: true })).edges.map((edge) => edge.node.id)).toEqual([user.personalProjectId]);
    expect((await list({ role: 'VIEWER' })).edges.map((edge) => edge.node)).toEqual([{ id: shared.id, myRole: 'VIEWER' }]);
    expect((await list({ q: 'LAB' })).edges.map((edge) => edge.node.id)).toEqual([beta.id, alpha.id]);

    const page1 = await list({ first: 3 });
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = await list({ first: 3, after: page1.pageInfo.endCursor });
    expect(page2.edges.map((edge) => edge.node.id)).toEqual([user.personalProjectId]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });

  it('keeps the personal project: no deletion, no other members, no slug', async () => {
    const user = await registerUser(access);
    const friend = await registerUser(access);
    expect(errorCode(await access.gql(DELETE, { id: user.personalProjectId }, user.identity))).toBe('conflict');
    expect(errorCode(await add(user, user.personalProjectId, { userId: friend.id }, 'MEMBER'))).toBe('unprocessable');
    expect(errorCode(await access.gql(UPDATE, { input: { id: user.personalProjectId, slug: 'my-personal' } }, user.identity))).toBe('unprocessable');
    const renamed = dataOf(await access.gql<{ updateProject: ProjectResult }>(UPDATE, { input: { id: user.personalProjectId, name: 'Mine' } }, user.identity));
    expect(renamed.updateProject).toMatchObject({ name: 'Mine', slug: null, personal: true });
  });
});

describe('what each role may do in a project', () => {
  let team: Team;

  beforeAll(async () => {
    team = await createTeam();
  });

  const as = (actor: Actor) => team.members[actor].identity;

  it.each<[Actor, Role | 'not_found']>([
    ['OWNER', 'OWNER'],
    ['ADMIN', 'ADMIN'],
    ['MEMBER', 'MEMBER'],
    ['VIEWER', 'VIEWER'],
    ['OUTSIDER', 'not_found'],
  ])('%s reads the project and its members: %s', async (actor, expected) => {
    const project = await access.gql<{ project: ProjectResult }>(GET, { id: team.projectId }, as(actor));
    const members = await access.gql<{ project: { members: { edges: unknown[] } } }>(MEMBERS, { id: team.projectId }, as(actor));
    if (expected === 'not_found') {
      expect(errorCode(project)).toBe('not_found');
      expect(errorCode(members)).toBe('not_found');
      // An outsider cannot tell this project from one that does not exist.
      const missing = onlyError(await access.gql(GET, { id: '01936f60-1d2e-7f3a-9b4c-5d6e7f8a9b0c' }, as(actor)));
      expect(onlyError(project).message).toBe(missing.message);
    } else {
      expect(dataOf(project).project).toMatchObject({ myRole: expected, memberCount: 4, ownerId: team.members.OWNER.id });
      expect(dataOf(members).project.members.edges).toHaveLength(4);
    }
  });

  it.each<[Actor, string]>([
    ['OWNER', 'ok'],
    ['ADMIN', 'ok'],
    ['MEMBER', 'forbidden'],
    ['VIEWER', 'forbidden'],
    ['OUTSIDER', 'not_found'],
  ])('%s renames the project: %s', async (actor, expected) => {
    const response = await access.gql<{ updateProject: ProjectResult }>(UPDATE, { input: { id: team.projectId, name: `Renamed by ${actor}` } }, as(actor));
    if (expected === 'ok') expect(dataOf(response).updateProject.name).toBe(`Renamed by ${actor}`);
    else expect(errorCode(response)).toBe(expected);
  });

  it.each<[Actor, Role, string]>([
    ['OWNER', 'MEMBER', 'ok'],
    ['OWNER', 'ADMIN', 'ok'],
    ['ADMIN', 'VIEWER', 'ok'],
    ['ADMIN', 'ADMIN', 'forbidden'],
    ['MEMBER', 'VIEWER', 'forbidden'],
    ['VIEWER', 'VIEWER', 'forbidden'],
    ['OUTSIDER', 'VIEWER', 'not_found'],
    ['OWNER', 'OWNER', 'validation_error'],
  ])('%s adds a new %s: %s', async (actor, role, expected) => {
    const newcomer = await registerUser(access);
    const response = await add(team.members[actor], team.projectId, { email: newcomer.email }, role);
    if (expected === 'ok') expect(dataOf(response).addProjectMember).toMatchObject({ userId: newcomer.id, role });
    else expect(errorCode(response)).toBe(expected);
  });

  it.each<[Actor, Role, Role, string]>([
    ['OWNER', 'MEMBER', 'ADMIN', 'ok'],
    ['ADMIN', 'MEMBER', 'VIEWER', 'ok'],
    ['ADMIN', 'VIEWER', 'MEMBER', 'ok'],
    ['ADMIN', 'MEMBER', 'ADMIN', 'forbidden'],
    ['ADMIN', 'ADMIN', 'MEMBER', 'forbidden'],
    ['MEMBER', 'VIEWER', 'MEMBER', 'forbidden'],
    ['VIEWER', 'MEMBER', 'VIEWER', 'forbidden'],
    ['OUTSIDER', 'MEMBER', 'VIEWER', 'not_found'],
  ])('%s changes a %s to %s: %s', async (actor, from, to, expected) => {
    const target = await registerUser(access);
    dataOf(await add(team.members.OWNER, team.projectId, { userId: target.id }, from));
    const response = await access.gql<{ updateProjectMember: { role: Role } }>(CHANGE, { input: { projectId: team.projectId, userId: target.id, role: to } }, as(actor));
    if (expected === 'ok') expect(dataOf(response).updateProjectMember.role).toBe(to);
    else expect(errorCode(response)).toBe(expected);
  });

  it.each<[Actor, Role, string]>([
    ['OWNER', 'ADMIN', 'ok'],
    ['ADMIN', 'MEMBER', 'ok'],
    ['ADMIN', 'VIEWER', 'ok'],
    ['ADMIN', 'ADMIN', 'forbidden'],
    ['MEMBER', 'VIEWER', 'forbidden'],
    ['VIEWER', 'MEMBER', 'forbidden'],
    ['OUTSIDER', 'MEMBER', 'not_found'],
  ])('%s removes a %s: %s', async (actor, role, expected) => {
    const target = await registerUser(access);
    dataOf(await add(team.members.OWNER, team.projectId, { userId: target.id }, role));
    const response = await access.gql<{ removeProjectMember: boolean }>(REMOVE, { input: { projectId: team.projectId, userId: target.id } }, as(actor));
    if (expected === 'ok') {
      expect(dataOf(response).removeProjectMember).toBe(true);
      expect(errorCode(await access.gql(GET, { id: team.projectId }, target.identity))).toBe('not_found');
    } else {
      expect(errorCode(response)).toBe(expected);
    }
  });

  it('never lets the owner be lowered, removed or leave', async () => {
    const owner = team.members.OWNER.id;
    expect(errorCode(await access.gql(CHANGE, { input: { projectId: team.projectId, userId: owner, role: 'ADMIN' } }, as('OWNER')))).toBe('conflict');
    expect(errorCode(await access.gql(CHANGE, { input: { projectId: team.projectId, userId: owner, role: 'MEMBER' } }, as('ADMIN')))).toBe('forbidden');
    expect(errorCode(await access.gql(REMOVE, { input: { projectId: team.projectId, userId: owner } }, as('ADMIN')))).toBe('conflict');
    expect(errorCode(await access.gql(REMOVE, { input: { projectId: team.projectId, userId: owner } }, as('OWNER')))).toBe('conflict');
  });

  it.each<[Actor, string]>([
    ['ADMIN', 'forbidden'],
    ['MEMBER', 'forbidden'],
    ['VIEWER', 'forbidden'],
    ['OUTSIDER', 'not_found'],
  ])('%s deletes the project: %s', async (actor, expected) => {
    expect(errorCode(await access.gql(DELETE, { id: team.projectId }, as(actor)))).toBe(expected);
  });
});

describe('membership changes', () => {
  it('answers unknown and suspended users alike, and refuses an existing member', async () => {
    const owner = await registerUser(access);
    const project = await createProject(owner, 'Members');
    const suspended = await registerUser(access);
    await access.pool.query("UPDATE access.users SET status = 'suspended', suspended_at = now() WHERE id = $1", [suspended.id]);
    const unknown = onlyError(await add(owner, project.id, { email: uniqueEmail('ghost') }, 'MEMBER'));
    const blocked = onlyError(await add(owner, project.id, { email: suspended.email }, 'MEMBER'));
    expect(unknown.extensions?.code).toBe('not_found');
    expect(blocked.message).toBe(unknown.message);

    const friend = await registerUser(access);
    dataOf(await add(owner, project.id, { userId: friend.id }, 'MEMBER'));
    expect(errorCode(await add(owner, project.id, { email: friend.email }, 'VIEWER'))).toBe('already_exists');
    expect(errorCode(await add(owner, project.id, { email: friend.email, userId: friend.id }, 'VIEWER'))).toBe('validation_error');
  });

  it('lets a member leave', async () => {
    const owner = await registerUser(access);
    const project = await createProject(owner, 'Leaving');
    const member = await registerUser(access);
    dataOf(await add(owner, project.id, { userId: member.id }, 'MEMBER'));
    expect(dataOf(await access.gql<{ removeProjectMember: boolean }>(REMOVE, { input: { projectId: project.id, userId: member.id } }, member.identity)).removeProjectMember).toBe(true);
    expect(errorCode(await access.gql(GET, { id: project.id }, member.identity))).toBe('not_found');
  });

  it('transfers ownership: the new owner is the only owner and the old one becomes admin', async () => {
    const owner = await registerUser(access);
    const heir = await registerUser(access);
    const project = await createProject(owner, 'Inheritance');
    dataOf(await add(owner, project.id, { userId: heir.id }, 'MEMBER'));
    const response = await access.gql<{ updateProjectMember: { role: Role } }>(CHANGE, { input: { projectId: project.id, userId: heir.id, role: 'OWNER' } }, owner.identity);
    expect(dataOf(response).updateProjectMember.role).toBe('OWNER');

    const seenByHeir = dataOf(await access.gql<{ project: ProjectResult }>(GET, { id: project.id }, heir.identity)).project;
    expect(seenByHeir).toMatchObject({ ownerId: heir.id, myRole: 'OWNER', owner: { userId: heir.id, role: 'OWNER' } });
    expect(dataOf(await access.gql<{ project: ProjectResult }>(GET, { id: project.id }, owner.identity)).project.myRole).toBe('ADMIN');
    // The old owner, now admin, can no longer take ownership back.
    expect(errorCode(await access.gql(CHANGE, { input: { projectId: project.id, userId: owner.id, role: 'OWNER' } }, owner.identity))).toBe('forbidden');
  });

  it('lists members owner first, then by join time, one page at a time', async () => {
    const owner = await registerUser(access);
    const project = await createProject(owner, 'Paging');
    const joined: string[] = [];
    for (let index = 0; index < 3; index++) {
      const user = await registerUser(access);
      dataOf(await add(owner, project.id, { userId: user.id }, index === 1 ? 'VIEWER' : 'MEMBER'));
      joined.push(user.id);
    }
    type Listing = { project: { members: { edges: { node: { userId: string; role: Role } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } };
    const page1 = dataOf(await access.gql<Listing>(MEMBERS, { id: project.id, first: 2 }, owner.identity)).project.members;
    const page2 = dataOf(await access.gql<Listing>(MEMBERS, { id: project.id, first: 2, after: page1.pageInfo.endCursor }, owner.identity)).project.members;
    expect([...page1.edges, ...page2.edges].map((edge) => edge.node.userId)).toEqual([owner.id, ...joined]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const viewers = dataOf(await access.gql<Listing>(MEMBERS, { id: project.id, role: 'VIEWER' }, owner.identity)).project.members;
    expect(viewers.edges.map((edge) => edge.node.userId)).toEqual([joined[1]]);
  });

  it('writes an audit row for every change, in the order they happened', async () => {
    const owner = await registerUser(access);
    const member = await registerUser(access);
    const project = await createProject(owner, 'Audited');
    dataOf(await add(owner, project.id, { userId: member.id }, 'MEMBER'));
    dataOf(await access.gql(CHANGE, { input: { projectId: project.id, userId: member.id, role: 'VIEWER' } }, owner.identity));
    dataOf(await access.gql(UPDATE, { input: { id: project.id, name: 'Audited 2' } }, owner.identity));
    dataOf(await access.gql(REMOVE, { input: { projectId: project.id, userId: member.id } }, owner.identity));
    dataOf(await access.gql(DELETE, { id: project.id }, owner.identity));
    expect(await auditActions(project.id)).toEqual([
      'project.member_add',
      'project.member_role_change',
      'project.update',
      'project.member_remove',
      'project.delete',
    ]);
    const { rows } = await access.pool.query(
      "SELECT actor_kind, actor_id, details FROM infra.audit_logs WHERE target_id = $1 AND action = 'project.member_role_change'",
      [project.id],
    );
    expect(rows).toEqual([{ actor_kind: 'user', actor_id: owner.id, details: { user_id: member.id, before: 'member', after: 'viewer' } }]);
    expect(errorCode(await access.gql(GET, { id: project.id }, owner.identity))).toBe('not_found');
  });

  it('changes and clears a slug, refusing one another project holds', async () => {
    const owner = await registerUser(access);
    const tag = Date.now().toString(36);
    const project = await createProject(owner, 'Slugged', `first-${tag}`);
    await createProject(owner, 'Other', `other-${tag}`);
    expect(errorCode(await access.gql(UPDATE, { input: { id: project.id, slug: `other-${tag}` } }, owner.identity))).toBe('already_exists');
    const changed = dataOf(await access.gql<{ updateProject: ProjectResult }>(UPDATE, { input: { id: project.id, slug: `second-${tag}` } }, owner.identity));
    expect(changed.updateProject.slug).toBe(`second-${tag}`);
    const cleared = dataOf(await access.gql<{ updateProject: ProjectResult }>(UPDATE, { input: { id: project.id, clearSlug: true } }, owner.identity));
    expect(cleared.updateProject.slug).toBeNull();
    expect(errorCode(await access.gql(UPDATE, { input: { id: project.id } }, owner.identity))).toBe('validation_error');
  });
});

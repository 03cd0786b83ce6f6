import { DoorError, type AccessClient, type Me, type Member, type Project, type SshKey, type Tokens } from './access-client.js';

interface GraphqlAnswer {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: ReadonlyArray<{ message: string; extensions?: { code?: string } }>;
}

/** Posts one operation to the gateway; the first error (with its catalog code) is thrown. */
export async function graphqlCall<T>(url: string, query: string, variables: object = {}, token?: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.json()) as GraphqlAnswer;
  const [first] = answer.errors ?? [];
  if (first) throw new DoorError(first.extensions?.code ?? 'none', first.message);
  return answer.data as T;
}

const TOKENS = 'accessToken refreshToken';
const lower = (value: string) => value.toLowerCase();

/** The access operations through the gateway's GraphQL only, with enum values lower-cased like REST's for comparison. */
export function graphqlAccessClient(url: string): AccessClient {
  const call = <T>(query: string, variables: object = {}, token?: string, headers?: Record<string, string>) => graphqlCall<T>(url, query, variables, token, headers);
  const member = (m: Member): Member => ({ ...m, role: lower(m.role) });
  return {
    door: 'GraphQL',
    register: (email, password, displayName) =>
      call<{ register: { user: { id: string; personalProjectId: string }; tokens: Tokens } }>(
        `mutation($input: RegisterInput!) { register(input: $input) { user { id personalProjectId } tokens { ${TOKENS} } } }`,
        { input: { email, password, displayName } },
      ).then(({ register }) => ({ userId: register.user.id, personalProjectId: register.user.personalProjectId, tokens: register.tokens })),
    login: (email, password) =>
      call<{ login: Tokens }>(`mutation($input: LoginInput!) { login(input: $input) { ${TOKENS} } }`, { input: { email, password } }).then((d) => d.login),
    refresh: (refreshToken) =>
      call<{ refreshTokens: Tokens }>(`mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { ${TOKENS} } }`, { input: { refreshToken } }).then(
        (d) => d.refreshTokens,
      ),
    me: (token) =>
      call<{ me: Me }>('{ me { id email role status authMethods { type provider } } }', {}, token).then(({ me }) => ({
        ...me,
        role: lower(me.role),
        status: lower(me.status),
        authMethods: me.authMethods.map((method) => ({ ...method, type: lower(method.type) })),
      })),
    createProject: (token, name) =>
      call<{ createProject: Project }>('mutation($input: CreateProjectInput!) { createProject(input: $input) { id name myRole } }', { input: { name } }, token).then(
        ({ createProject }) => ({ ...createProject, myRole: lower(createProject.myRole) }),
      ),
    addMember: (token, projectId, email, role) =>
      call<{ addProjectMember: Member }>(
        'mutation($input: AddProjectMemberInput!) { addProjectMember(input: $input) { userId email role } }',
        { input: { projectId, email, role: role.toUpperCase() } },
        token,
      ).then((d) => member(d.addProjectMember)),
    listMembers: (token, projectId) =>
      call<{ project: { members: { edges: Array<{ node: Member }> } } }>('query($id: ID!) { project(id: $id) { members { edges { node { userId email role } } } } }', { id: projectId }, token).then(
        (d) => d.project.members.edges.map((edge) => member(edge.node)),
      ),
    addSshKey: (token, name, publicKey) =>
      call<{ createSshKey: SshKey }>('mutation($input: CreateSshKeyInput!) { createSshKey(input: $input) { id name fingerprint } }', { input: { name, publicKey } }, token).then(
        (d) => d.createSshKey,
      ),
    listSshKeys: (token) =>
      call<{ sshKeys: { edges: Array<{ node: SshKey }> } }>('{ sshKeys { edges { node { id name fingerprint } } } }', {}, token).then((d) => d.sshKeys.edges.map((edge) => edge.node)),
    logout: (token) => call('mutation { logout(input: {}) }', {}, token).then(() => undefined),
    startOidcLogin: (provider, redirectUri, loginHint) =>
      call<{ startOidcLogin: { authorizationUrl: string } }>(
        'mutation($input: StartOidcLoginInput!) { startOidcLogin(input: $input) { authorizationUrl } }',
        { input: { provider, redirectUri, loginHint } },
      ).then((d) => d.startOidcLogin.authorizationUrl),
    completeOidcLogin: (provider, code, state, iss) =>
      call<{ completeOidcLogin: Tokens }>(`mutation($input: CompleteOidcLoginInput!) { completeOidcLogin(input: $input) { ${TOKENS} } }`, {
        input: { provider, code, state, ...(iss !== null ? { iss } : {}) },
      }).then(
        (d) => d.completeOidcLogin,
      ),
    suspendUser: (token, userId, reason, correlationId) =>
      call<{ adminUpdateUser: { status: string } }>(
        'mutation($input: AdminUpdateUserInput!) { adminUpdateUser(input: $input) { status } }',
        { input: { id: userId, status: 'SUSPENDED', reason } },
        token,
        { 'x-correlation-id': correlationId },
      ).then((d) => ({ status: lower(d.adminUpdateUser.status) })),
  };
}

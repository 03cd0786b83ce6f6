import { toCamelCase } from '@gpuaas/rest-adapter/case-mapping';
import { assertResponseMatchesContract } from '@gpuaas/rest-adapter/testing';
import { DoorError, type AccessClient, type Me, type Member, type Project, type Registered, type SshKey, type Tokens } from './access-client.js';

export interface RestAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

export interface RestRequest {
  readonly token?: string | undefined;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Sends one REST request and checks the answer against what the contract promises for `operationId` at that status,
 * whatever it is: success or error, every answer of these tests is validated.
 */
export async function restCall(baseUrl: string, operationId: string, method: string, path: string, request: RestRequest = {}): Promise<RestAnswer> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.token !== undefined) headers['authorization'] = `Bearer ${request.token}`;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(baseUrl + path, {
    method,
    headers,
    redirect: 'manual',
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
  });
  const text = await response.text();
  const json = text === '' ? undefined : (JSON.parse(text) as unknown);
  assertResponseMatchesContract(operationId, response.status, json);
  return { status: response.status, headers: response.headers, text, json };
}

/** The access operations through the REST adapter only. */
export function restAccessClient(baseUrl: string): AccessClient {
  async function ok<T>(operationId: string, method: string, path: string, request: RestRequest = {}): Promise<T> {
    const answer = await restCall(baseUrl, operationId, method, path, request);
    if (answer.status >= 400) {
      const error = answer.json as { code: string; message: string };
      throw new DoorError(error.code, error.message, answer.status);
    }
    return toCamelCase<T>(answer.json);
  }
  return {
    door: 'REST',
    register: (email, password, displayName) =>
      ok<Registered & { user: { id: string; personalProjectId: string } }>('registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', {
        body: { email, password, display_name: displayName },
      }).then((r) => ({ userId: r.user.id, personalProjectId: r.user.personalProjectId, tokens: r.tokens })),
    login: (email, password) => ok<Tokens>('loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email, password } }),
    refresh: (refreshToken) => ok<Tokens>('refreshToken', 'POST', '/api/v1/auth/token/refresh', { body: { refresh_token: refreshToken } }),
    me: (token) => ok<Me>('getMe', 'GET', '/api/v1/me', { token }),
    createProject: (token, name) => ok<Project>('createProject', 'POST', '/api/v1/projects', { token, body: { name } }),
    addMember: (token, projectId, email, role) => ok<Member>('addProjectMember', 'POST', `/api/v1/projects/${projectId}/members`, { token, body: { email, role } }),
    listMembers: (token, projectId) => ok<{ data: Member[] }>('listProjectMembers', 'GET', `/api/v1/projects/${projectId}/members`, { token }).then((p) => p.data),
    addSshKey: (token, name, publicKey) => ok<SshKey>('createSshKey', 'POST', '/api/v1/ssh-keys', { token, body: { name, public_key: publicKey } }),
    listSshKeys: (token) => ok<{ data: SshKey[] }>('listSshKeys', 'GET', '/api/v1/ssh-keys', { token }).then((p) => p.data),
    logout: (token) => ok<void>('logout', 'POST', '/api/v1/auth/logout', { token, body: {} }).then(() => undefined),
    async startOidcLogin(provider, redirectUri, loginHint) {
      const query = new URLSearchParams({ redirect_uri: redirectUri, login_hint: loginHint });
      const answer = await restCall(baseUrl, 'startOidcLogin', 'GET', `/api/v1/auth/oidc/${provider}/authorize?${query}`);
      if (answer.status !== 302) throw new DoorError((answer.json as { code: string }).code, answer.text, answer.status);
      return answer.headers.get('location') ?? '';
    },
    // The contract's callback takes code and state only, so `iss` cannot travel through REST.
    completeOidcLogin: (provider, code, state) =>
      ok<Tokens>('completeOidcLogin', 'GET', `/api/v1/auth/oidc/${provider}/callback?${new URLSearchParams({ code, state })}`),
    suspendUser: (token, userId, reason, correlationId) =>
      ok<{ status: string }>('adminUpdateUser', 'PATCH', `/api/v1/admin/users/${userId}`, {
        token,
        body: { status: 'suspended', reason },
        headers: { 'x-correlation-id': correlationId },
      }),
  };
}

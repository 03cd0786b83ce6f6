import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadContract } from '../src/contract/load-contract.js';
import { defaultOperationRegistry } from '../src/operations/registry.js';
import { assertResponseMatchesContract } from '../src/testing/contract-validator.js';
import { accessRoot, authorizationUrl, ids } from './support/access-fixtures.js';
import { startTestAdapter, type Answer, type TestAdapter } from './support/adapter.js';
import { createRequestBuilder, TEST_BEARER } from './support/request-builder.js';
import { catalogError, startStubGateway, type RootValue, type StubGateway } from './support/stub-gateway.js';

const contract = loadContract();
const buildRequest = createRequestBuilder(contract);
const served = defaultOperationRegistry();
const accessOperations = contract.operations.filter((o) => o.tags.includes('access'));

/** Answers the contract gives each operation on success; the rest answer 200. */
const successStatus: Record<string, number> = {
  startOidcLogin: 302,
  registerPersonalAccount: 201,
  createSshKey: 201,
  createProject: 201,
  addProjectMember: 201,
  requestPasswordReset: 202,
  confirmPasswordReset: 204,
  logout: 204,
  changeMyPassword: 204,
  deleteSshKey: 204,
  deleteProject: 204,
  removeProjectMember: 204,
};

let gateway: StubGateway;
let server: TestAdapter;
const root: RootValue = accessRoot();
const original = { ...root };

beforeAll(async () => {
  gateway = await startStubGateway(root);
  server = await startTestAdapter({ config: { gatewayUrl: gateway.url } });
});
afterEach(() => {
  Object.assign(root, original);
  gateway.received.length = 0;
});
afterAll(async () => {
  await server?.close();
  await gateway?.close();
});

async function call(operationId: string, change: { url?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const operation = contract.operations.find((o) => o.operationId === operationId)!;
  const request = buildRequest(operation);
  const body = change.body !== undefined ? JSON.stringify(change.body) : request.body;
  return server.send(request.method, change.url ?? request.url, { headers: { ...request.headers, ...change.headers }, ...(body !== undefined ? { body } : {}) });
}

function lastVariables(): Record<string, unknown> {
  return gateway.received.at(-1)!.variables;
}

describe('the access operations', () => {
  it('are all served: every access-tagged operation and the admin user endpoints', () => {
    const missing = accessOperations.filter((o) => !served.has(o.operationId)).map((o) => o.operationId);
    expect(missing).toEqual([]);
    expect(accessOperations.length).toBe(32);
  });

  it.each(accessOperations.map((o) => [o.operationId] as const))('%s answers its contract shape on success', async (operationId) => {
    const answer = await call(operationId);
    const status = successStatus[operationId] ?? 200;

    expect(answer.status, answer.text).toBe(status);
    expect(gateway.received).toHaveLength(1);
    if (status === 204 || status === 302) expect(answer.text).toBe('');
    assertResponseMatchesContract(operationId, status, answer.json);
  });
});

describe('mapping requests onto GraphQL', () => {
  it('turns limit and cursor into first and after, and lower-case filters into GraphQL enum values', async () => {
    const answer = await call('listProjects', { url: '/api/v1/projects?limit=7&cursor=abc&role=admin&personal=false' });

    expect(answer.status, answer.text).toBe(200);
    expect(lastVariables()).toEqual({ first: 7, after: 'abc', role: 'ADMIN', personal: false });
  });

  it('passes the contract default page size when the client sends none', async () => {
    await call('listSshKeys', { url: '/api/v1/ssh-keys' });

    expect(lastVariables()).toEqual({ first: 50 });
  });

  it('gathers the admin user filters into one filter input', async () => {
    const answer = await call('adminListUsers', { url: '/api/v1/admin/users?status=suspended&role=admin&q=example.com&created_after=2026-01-01T00:00:00Z' });

    expect(answer.status, answer.text).toBe(200);
    expect(lastVariables()).toEqual({ first: 50, filter: { status: 'SUSPENDED', role: 'ADMIN', q: 'example.com', createdAfter: '2026-01-01T00:00:00Z' } });
  });

  it('merges path parameters into the mutation input under GraphQL names', async () => {
    await call('updateProjectMember', { url: `/api/v1/projects/${ids.sharedProject}/members/${ids.grace}`, body: { role: 'viewer' } });

    expect(lastVariables()).toEqual({ input: { projectId: ids.sharedProject, userId: ids.grace, role: 'VIEWER' } });
  });

  it('camel-cases body fields', async () => {
    await call('addProjectMember', { url: `/api/v1/projects/${ids.sharedProject}/members`, body: { user_id: ids.grace, role: 'admin' } });

    expect(lastVariables()).toEqual({ input: { projectId: ids.sharedProject, userId: ids.grace, role: 'ADMIN' } });
  });

  it('clears a project slug with clearSlug when REST sends slug: null', async () => {
    const answer = await call('updateProject', { url: `/api/v1/projects/${ids.sharedProject}`, body: { slug: null } });

    expect(lastVariables()).toEqual({ input: { id: ids.sharedProject, clearSlug: true } });
    expect(answer.json).toMatchObject({ slug: null });
  });

  it('keeps a new slug as a slug', async () => {
    await call('updateProject', { url: `/api/v1/projects/${ids.sharedProject}`, body: { slug: 'vision-lab' } });

    expect(lastVariables()).toEqual({ input: { id: ids.sharedProject, slug: 'vision-lab' } });
  });

  it('sends the OIDC provider, redirect URI and login hint to startOidcLogin and redirects the browser', async () => {
    const answer = await call('startOidcLogin', { url: '/api/v1/auth/oidc/corp-sso/authorize?redirect_uri=http%3A%2F%2F127.0.0.1%3A5173%2Fcb&login_hint=ada' });

    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe(authorizationUrl);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(lastVariables()).toEqual({ input: { provider: 'corp-sso', redirectUri: 'http://127.0.0.1:5173/cb', loginHint: 'ada' } });
  });

  it('logs out the current session when the body is empty', async () => {
    const answer = await call('logout', { body: {} });

    expect(answer.status).toBe(204);
    expect(lastVariables()).toEqual({ input: { allSessions: false } });
  });
});

describe('mapping GraphQL answers to REST', () => {
  it('answers snake_case with lower-case enum values, hyphenated where REST spells them so', async () => {
    const me = await call('getMe');
    const key = await call('getSshKey');

    expect(me.json).toMatchObject({
      role: 'user',
      status: 'active',
      display_name: 'Ada Lovelace',
      personal_project_id: ids.personalProject,
      auth_methods: [
        { type: 'password', provider: null, linked_at: '2026-11-27T12:00:00Z' },
        { type: 'oidc', provider: 'google', linked_at: '2026-11-27T12:00:00Z' },
      ],
    });
    expect(key.json).toMatchObject({ algorithm: 'ecdsa-sha2-nistp256', bits: 256 });
  });

  it('turns a connection into {data, next_cursor}, with a cursor only while there is a next page', async () => {
    const keys = await call('listSshKeys');
    const projects = await call('listProjects');

    expect(keys.json).toMatchObject({ data: [{ id: ids.sshKey }], next_cursor: 'cursor-0' });
    expect(projects.json).toMatchObject({ data: [{ id: ids.personalProject, my_role: 'owner' }, { id: ids.sharedProject }], next_cursor: null });
  });

  it('answers the v3 project with members inline and the domains that do not answer yet as null', async () => {
    const answer = await call('v3GetAccessProject');

    expect(answer.json).toEqual({
      id: ids.sharedProject,
      name: 'Vision Research',
      slug: 'vision-research',
      personal: false,
      created_at: '2026-11-27T12:00:00Z',
      my_role: 'owner',
      owner: { user_id: ids.ada, email: 'ada@example.com', display_name: 'Ada Lovelace', role: 'owner', added_at: '2026-11-27T12:00:00Z' },
      member_count: 2,
      members: [
        { user_id: ids.ada, email: 'ada@example.com', display_name: 'Ada Lovelace', role: 'owner', added_at: '2026-11-27T12:00:00Z' },
        { user_id: ids.grace, email: 'grace@example.com', display_name: 'Grace Hopper', role: 'member', added_at: '2026-11-27T12:00:00Z' },
      ],
      members_truncated: false,
      live_allocation_count: null,
      balance: null,
      runway_seconds: null,
      low_balance: null,
    });
  });

  it('says when a v3 project lists fewer members than it has', async () => {
    root['projects'] = () => ({
      edges: [{ node: { ...(accessRoot()['project'] as () => object)(), memberCount: 250 }, cursor: 'c' }],
      pageInfo: { hasNextPage: false, endCursor: 'c' },
    });
    const answer = await call('v3ListAccessProjects', { url: '/api/v3/access/projects?q=vision' });

    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ data: [{ member_count: 250, members_truncated: true }], next_cursor: null });
    expect(lastVariables()).toEqual({ first: 50, q: 'vision' });
    assertResponseMatchesContract('v3ListAccessProjects', 200, answer.json);
  });

  it('answers the v3 profile with its projects, counts and whether the list is cut short', async () => {
    const answer = await call('v3GetAccessMe');

    expect(answer.json).toMatchObject({
      id: ids.ada,
      projects: [
        { id: ids.personalProject, name: 'Ada Lovelace', slug: null, personal: true, my_role: 'owner' },
        { id: ids.sharedProject, name: 'Vision Research', slug: 'vision-research', personal: false, my_role: 'owner' },
      ],
      projects_truncated: false,
      project_count: 2,
      ssh_key_count: 1,
    });
  });
});

describe('what the adapter forwards to the gateway', () => {
  it('forwards the Authorization header, the correlation id and the client address', async () => {
    await call('getMe', { headers: { 'x-correlation-id': 'forward-check-1' } });
    const { headers } = gateway.received.at(-1)!;

    expect(headers['authorization']).toBe(TEST_BEARER);
    expect(headers['x-correlation-id']).toBe('forward-check-1');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('replaces an X-Forwarded-For the client sent with the address it connected from', async () => {
    await call('getMe', { headers: { 'x-forwarded-for': '203.0.113.9' } });

    expect(gateway.received.at(-1)!.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('does not forward a bearer to operations that take none, so a stale token cannot fail a login', async () => {
    const answer = await call('loginPersonal', { headers: { authorization: 'Bearer stale.token.here' } });

    expect(answer.status).toBe(200);
    expect(gateway.received.at(-1)!.headers['authorization']).toBeUndefined();
  });
});

describe('mapping GraphQL errors to REST errors', () => {
  it('answers a catalog error with its status, message and the request correlation id', async () => {
    root['project'] = () => {
      throw catalogError('not_found', 'Project not found');
    };
    const answer = await call('getProject', { headers: { 'x-correlation-id': 'missing-project-1' } });

    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({ code: 'not_found', message: 'Project not found', correlation_id: 'missing-project-1' });
    assertResponseMatchesContract('getProject', 404, answer.json);
  });

  it('passes validation details through unchanged', async () => {
    const fields = [{ field: 'body.public_key', message: 'RSA keys need at least 2048 bits' }];
    root['createSshKey'] = () => {
      throw catalogError('validation_error', 'The request is invalid', { fields });
    };
    const answer = await call('createSshKey');

    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: 'validation_error', details: { fields } });
    assertResponseMatchesContract('createSshKey', 400, answer.json);
  });

  it('lets the first of several errors decide', async () => {
    root['me'] = () => {
      throw catalogError('account_suspended', 'The account is suspended');
    };
    const answer = await call('v3GetAccessMe');

    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ code: 'account_suspended' });
  });

  it('sets Retry-After on rate_limited', async () => {
    root['login'] = () => {
      throw catalogError('rate_limited', 'Too many login attempts', { retry_after_seconds: 42 });
    };
    const answer = await call('loginPersonal');

    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('42');
    assertResponseMatchesContract('loginPersonal', 429, answer.json);
  });

  it('answers an error without a catalog code as internal_error and never echoes it', async () => {
    root['me'] = () => {
      throw new Error('connection to 10.0.0.7 refused, password=hunter2');
    };
    const answer = await call('getMe');

    expect(answer.status).toBe(500);
    expect(answer.json).toMatchObject({ code: 'internal_error', message: 'An unexpected error occurred' });
    expect(answer.text).not.toMatch(/hunter2|10\.0\.0\.7/);
    assertResponseMatchesContract('getMe', 500, answer.json);
  });
});

describe('a gateway that cannot be reached', () => {
  it('answers 503 service_unavailable', async () => {
    const lonely = await startTestAdapter({ config: { gatewayUrl: 'http://127.0.0.1:9/graphql' } });
    try {
      const request = buildRequest(contract.operations.find((o) => o.operationId === 'getMe')!);
      const answer = await lonely.send(request.method, request.url, { headers: request.headers });

      expect(answer.status).toBe(503);
      expect(answer.json).toMatchObject({ code: 'service_unavailable' });
      assertResponseMatchesContract('getMe', 503, answer.json);
    } finally {
      await lonely.close();
    }
  });
});

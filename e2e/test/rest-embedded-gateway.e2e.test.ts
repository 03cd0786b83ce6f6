import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, loadGatewayConfig } from '@gpuaas/gateway';
import { createRestAdapter, loadRestAdapterConfig, type RestAdapter } from '@gpuaas/rest-adapter';
import type { HttpService } from '@gpuaas/service-kit';
import { createAccessSubgraph, loadAccessConfig } from '@gpuaas/subgraph-access';
import { createBillingSubgraph, loadBillingConfig } from '@gpuaas/subgraph-billing';
import { createComputeSubgraph, loadComputeConfig } from '@gpuaas/subgraph-compute';
import { createPlatformSubgraph, loadPlatformConfig } from '@gpuaas/subgraph-platform';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '@gpuaas/subgraph-workloads';
import { createTestDatabase, createTestRedis } from '@gpuaas/testkit';
import { restCall, type RestAnswer } from './support/rest-client.js';

// No standalone gateway serves the embedded adapters: everything they answer went through the engine in their own
// process. One remote-mode adapter (through a real gateway) is kept beside them to compare answers with.
const PASSWORD = 'correct-horse-battery-staple-42';
const closers: Array<() => Promise<void>> = [];
let env: Record<string, string>;
let embedded: RestAdapter;
let remote: RestAdapter;
let db: pg.Pool;

beforeAll(async () => {
  const database = await createTestDatabase();
  closers.push(() => database.drop());
  const redis = await createTestRedis();
  closers.push(() => redis.cleanup());
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  closers.push(() => db.end());
  const base = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    GATEWAY_IDENTITY_SECRET: 'e2e-embedded-identity-secret-0123456789abcdef',
  };
  const track = async <S extends { close(): Promise<void> }>(service: Promise<S>): Promise<S> => {
    const started = await service;
    closers.push(() => started.close());
    return started;
  };
  const subgraphs: Record<string, HttpService> = {
    ACCESS_URL: await track(createAccessSubgraph(loadAccessConfig(base))),
    COMPUTE_URL: await track(createComputeSubgraph(loadComputeConfig(base))),
    BILLING_URL: await track(createBillingSubgraph(loadBillingConfig(base))),
    WORKLOADS_URL: await track(createWorkloadsSubgraph(loadWorkloadsConfig(base))),
    PLATFORM_URL: await track(createPlatformSubgraph(loadPlatformConfig(base))),
  };
  env = { ...base, ...Object.fromEntries(Object.entries(subgraphs).map(([name, service]) => [name, `${service.url}/graphql`])) };
  // Configured from the environment exactly as main.ts is: no GATEWAY_URL, so the engine is embedded.
  embedded = await track(createRestAdapter(loadRestAdapterConfig(env)));
  const gateway = await track(createGateway(loadGatewayConfig(env)));
  remote = await track(createRestAdapter(loadRestAdapterConfig({ ...env, GATEWAY_URL: `${gateway.url}/graphql` })));
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

function rest(adapter: RestAdapter, operationId: string, method: string, path: string, request: Parameters<typeof restCall>[4] = {}): Promise<RestAnswer> {
  return restCall(adapter.url, operationId, method, path, request);
}

async function register(email: string): Promise<{ userId: string; accessToken: string }> {
  const answer = await rest(embedded, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', { body: { email, password: PASSWORD, display_name: 'Embedded Tester' } });
  expect(answer.status, answer.text).toBe(201);
  const body = answer.json as { user: { id: string }; tokens: { access_token: string } };
  return { userId: body.user.id, accessToken: body.tokens.access_token };
}

async function login(email: string): Promise<string> {
  const answer = await rest(embedded, 'loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email, password: PASSWORD } });
  expect(answer.status, answer.text).toBe(200);
  return (answer.json as { access_token: string }).access_token;
}

const me = (adapter: RestAdapter, token: string, correlationId: string = randomUUID()) =>
  rest(adapter, 'getMe', 'GET', '/api/v1/me', { token, headers: { 'x-correlation-id': correlationId } });

/** The refusal envelope, with the caller's correlation id, and the same answer (status and body) in remote mode. */
async function expectRefusedAlike(token: string, status: number, code: string): Promise<void> {
  const correlationId = `refused-${randomUUID()}`;
  const inProcess = await me(embedded, token, correlationId);
  expect(inProcess.status, inProcess.text).toBe(status);
  expect(inProcess.json).toMatchObject({ code, correlation_id: correlationId });
  expect(inProcess.headers.get('x-correlation-id')).toBe(correlationId);
  const overHttp = await me(remote, token, correlationId);
  expect({ status: overHttp.status, body: overHttp.json }).toEqual({ status: inProcess.status, body: inProcess.json });
}

describe('the REST adapter with the gateway embedded', () => {
  it('registers, logs in and answers me, exactly as through a remote gateway', async () => {
    const email = `ada-${randomUUID()}@example.com`;
    const { userId } = await register(email);
    const token = await login(email);

    const answer = await me(embedded, token);

    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ id: userId, email, display_name: 'Embedded Tester', role: 'user', status: 'active' });
    expect((await me(remote, token)).json).toEqual(answer.json);
  });

  it('answers 401 unauthenticated with the correlation id for a missing, malformed or forged token', async () => {
    const { accessToken } = await register(`bad-${randomUUID()}@example.com`);
    const [header, payload, signature = ''] = accessToken.split('.');
    const forged = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;

    await expectRefusedAlike('not-a-jwt', 401, 'unauthenticated');
    await expectRefusedAlike(forged, 401, 'unauthenticated');
    const anonymous = await rest(embedded, 'getMe', 'GET', '/api/v1/me', { headers: { 'x-correlation-id': 'corr-anonymous-me' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({ code: 'unauthenticated', correlation_id: 'corr-anonymous-me' });
  });

  it('refuses an access token once its session has logged out', async () => {
    const email = `leaving-${randomUUID()}@example.com`;
    await register(email);
    const token = await login(email);
    expect((await me(embedded, token)).status).toBe(200);

    const logout = await rest(embedded, 'logout', 'POST', '/api/v1/auth/logout', { token, body: {} });

    expect(logout.status, logout.text).toBe(204);
    await expectRefusedAlike(token, 401, 'unauthenticated');
  });

  it("refuses a suspended user's very next call, and the suspension's correlation id reaches the access subgraph", async () => {
    const adminEmail = `admin-${randomUUID()}@example.com`;
    const { userId: adminId } = await register(adminEmail);
    await db.query("UPDATE access.users SET role = 'admin', updated_at = now() WHERE id = $1", [adminId]);
    const adminToken = await login(adminEmail);
    const userEmail = `grace-${randomUUID()}@example.com`;
    const { userId } = await register(userEmail);
    const token = await login(userEmail);
    expect((await me(embedded, token)).status).toBe(200);
    const correlationId = `suspend-${randomUUID()}`;

    const suspended = await rest(embedded, 'adminUpdateUser', 'PATCH', `/api/v1/admin/users/${userId}`, {
      token: adminToken,
      body: { status: 'suspended', reason: 'Embedded gateway check' },
      headers: { 'x-correlation-id': correlationId },
    });

    expect(suspended.status, suspended.text).toBe(200);
    await expectRefusedAlike(token, 403, 'account_suspended');
    const { rows } = await db.query<{ actor_id: string; target_id: string }>('SELECT actor_id, target_id FROM infra.audit_logs WHERE correlation_id = $1', [correlationId]);
    expect(rows).toEqual([{ actor_id: adminId, target_id: userId }]);
  });

  it('maps the embedded gateway\'s depth and cost limits to 400 query_too_complex', async () => {
    const email = `limits-${randomUUID()}@example.com`;
    await register(email);
    const token = await login(email);
    const limited = async (limits: Record<string, string>) => {
      const adapter = await createRestAdapter(loadRestAdapterConfig({ ...env, ...limits }));
      closers.push(() => adapter.close());
      return adapter;
    };
    const shallow = await limited({ GRAPHQL_MAX_DEPTH: '1' });
    const cheap = await limited({ GRAPHQL_MAX_COST: '3' });

    // getMe's contract lists no 400, so these answers are read without the contract check.
    const tooDeep = await fetch(`${shallow.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}`, 'x-correlation-id': 'corr-too-deep' } });
    const tooCostly = await fetch(`${cheap.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}`, 'x-correlation-id': 'corr-too-costly' } });

    expect(tooDeep.status).toBe(400);
    expect(await tooDeep.json()).toMatchObject({ code: 'query_too_complex', correlation_id: 'corr-too-deep', details: { max_depth: 1 } });
    expect(tooCostly.status).toBe(400);
    expect(await tooCostly.json()).toMatchObject({ code: 'query_too_complex', correlation_id: 'corr-too-costly', details: { max_cost: 3 } });
  });
});

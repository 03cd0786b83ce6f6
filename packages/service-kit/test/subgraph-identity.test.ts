import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymousIdentity, signIdentity, type AuthenticatedIdentity } from '@gpuaas/auth';
import { createLogger } from '@gpuaas/telemetry';
import { createSubgraphService, type HttpService, type SubgraphContext } from '../src/index.js';

const secret = 'service-kit-identity-secret-0123456789abcdef';
const caller: AuthenticatedIdentity = {
  userId: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e0f',
  role: 'user',
  sessionId: '01936f5e-9a10-7c3e-8d21-5a6b7c8d9e10',
  tokenVersion: 2,
  correlationId: 'corr-subgraph-identity',
  ip: '198.51.100.4',
};

interface EchoContext extends SubgraphContext {
  readonly userAgent: string;
}

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Caller { userId: ID role: String sessionId: ID tokenVersion: Int ip: String correlationId: String! userAgent: String! }
  type Query { caller: Caller! }
`);

let subgraph: HttpService;

beforeAll(async () => {
  subgraph = await createSubgraphService<EchoContext>({
    name: 'identity-echo',
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('identity-echo', 'silent'),
    typeDefs,
    identitySecret: secret,
    context: (base, req) => ({ ...base, userAgent: req?.headers['user-agent'] ?? '' }),
    resolvers: {
      Query: {
        caller: (_parent: unknown, _args: unknown, context: EchoContext) => ({
          ...context.identity,
          correlationId: context.correlationId,
          userAgent: context.userAgent,
        }),
      },
    },
    routes: (app) => app.get('/public', (_req, res) => void res.json({ open: true })),
  });
});

afterAll(async () => {
  await subgraph?.close();
});

const query = '{ caller { userId role sessionId tokenVersion ip correlationId userAgent } }';

async function post(headers: Record<string, string>) {
  const response = await fetch(`${subgraph.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'identity-test', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] } };
}

describe('a subgraph behind the gateway', () => {
  it('hands resolvers the identity the gateway signed, extended by the service context', async () => {
    const response = await post({ 'x-gateway-identity': await signIdentity(caller, { secret }) });
    expect(response).toEqual({
      status: 200,
      body: { data: { caller: { ...caller, userAgent: 'identity-test' } } },
    });
  });

  it('serves an anonymous caller that came through the gateway', async () => {
    const response = await post({ 'x-gateway-identity': await signIdentity(anonymousIdentity('corr-anon'), { secret }) });
    expect(response.body.data).toEqual({
      caller: { userId: null, role: null, sessionId: null, tokenVersion: null, ip: null, correlationId: 'corr-anon', userAgent: 'identity-test' },
    });
  });

  it('refuses a direct call without an identity with 401 unauthenticated', async () => {
    const response = await post({ 'x-correlation-id': 'corr-direct' });
    expect(response.status).toBe(401);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors).toEqual([
      {
        message: 'This service only answers requests that come through the gateway',
        extensions: { code: 'unauthenticated', correlation_id: 'corr-direct', details: { reason: 'missing' } },
      },
    ]);
  });

  it('refuses an identity signed with another secret', async () => {
    const forged = await signIdentity({ ...caller, role: 'admin' }, { secret: 'an-attacker-secret-that-is-long-enough-0' });
    const response = await post({ 'x-gateway-identity': forged });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'unauthenticated', details: { reason: 'bad_signature' } });
  });

  it('refuses an expired identity', async () => {
    const stale = await signIdentity(caller, { secret, now: new Date(Date.now() - 120_000) });
    const response = await post({ 'x-gateway-identity': stale });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'unauthenticated', details: { reason: 'expired' } });
  });

  it('refuses a garbled identity header', async () => {
    const response = await post({ 'x-gateway-identity': 'not.a.jwt' });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'unauthenticated', details: { reason: 'malformed' } });
  });

  it('leaves health and its own extra routes open', async () => {
    expect((await fetch(`${subgraph.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${subgraph.url}/public`)).json()).toEqual({ open: true });
  });

  it('refuses to start with an identity secret shorter than 32 bytes', async () => {
    await expect(
      createSubgraphService({
        name: 'short-secret',
        host: '127.0.0.1',
        port: 0,
        logger: createLogger('short-secret', 'silent'),
        typeDefs,
        identitySecret: 'too-short',
        resolvers: {},
      }),
    ).rejects.toThrow(/at least 32 bytes/);
  });
});

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSigningKey,
  createTokenRevocationStore,
  issueAccessToken,
  type SigningKey,
  type TokenRevocationStore,
} from '@gpuaas/auth';
import { createSubgraphService, type HttpService, type SubgraphContext } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { composeSupergraph, createGateway, JWKS_PATH, subgraphNames, type GatewayConfig, type SubgraphName } from '../src/index.js';
import { gatewayConfig, postGraphQL, testIdentitySecret, testRedisUrl, type GraphQLResponse } from './support/stack.js';
import { serveJwks } from './support/jwks-server.js';

// A stand-in subgraph that echoes what the gateway told it about the caller; composed as "access" so the
// gateway's URL config routes to it.
const echoTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Caller { userId: ID role: String sessionId: ID tokenVersion: Int ip: String correlationId: String! }
  type Item { id: ID! name: String! }
  type Query { caller: Caller! items(first: Int): [Item!]! }
`);
const callerQuery = '{ caller { userId role sessionId tokenVersion ip correlationId } }';

let redis: TestRedis;
let revocation: TokenRevocationStore;
let signingKey: SigningKey;
let jwksServer: HttpService;
let echo: HttpService;
let gateway: HttpService;
let graphqlUrl: string;
let echoCalls = 0;
const started: { close(): Promise<void> }[] = [];

function configFor(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const urls = Object.fromEntries(subgraphNames.map((name) => [name, `${echo.url}/graphql`])) as Record<SubgraphName, string>;
  return gatewayConfig(urls, redis.keyPrefix, { accessJwksUrl: `${jwksServer.url}${JWKS_PATH}`, maxQueryCost: 1_000, ...overrides });
}

async function startGateway(overrides: Partial<GatewayConfig> = {}): Promise<HttpService> {
  const service = await createGateway(configFor(overrides), { supergraphSdl: composeSupergraph([{ name: 'access', typeDefs: echoTypeDefs }]) });
  started.push(service);
  return service;
}

beforeAll(async () => {
  redis = await createTestRedis({ url: testRedisUrl });
  revocation = createTokenRevocationStore(redis, 'auth:');
  signingKey = await createSigningKey();
  const logger = createLogger('identity-test', 'silent');
  jwksServer = await serveJwks(signingKey, logger);
  started.push(jwksServer);
  echo = await createSubgraphService({
    name: 'identity-echo',
    host: '127.0.0.1',
    port: 0,
    logger,
    typeDefs: echoTypeDefs,
    identitySecret: testIdentitySecret,
    resolvers: {
      Query: {
        caller: (_parent: unknown, _args: unknown, context: SubgraphContext) => {
          echoCalls += 1;
          return { ...context.identity, correlationId: context.correlationId };
        },
        items: (_parent: unknown, args: { first?: number }) => Array.from({ length: args.first ?? 3 }, (_, index) => ({ id: String(index), name: `item ${index}` })),
      },
    },
  });
  started.push(echo);
  gateway = await startGateway();
  graphqlUrl = `${gateway.url}/graphql`;
});

afterAll(async () => {
  for (const service of started.reverse()) await service.close();
  await redis?.cleanup();
});

interface Caller {
  userId: string | null;
  role: string | null;
  sessionId: string | null;
  tokenVersion: number | null;
  ip: string | null;
  correlationId: string;
}

async function token(overrides: Partial<Parameters<typeof issueAccessToken>[0]> = {}) {
  const userId = randomUUID();
  const sessionId = randomUUID();
  const issued = await issueAccessToken({
    key: signingKey,
    userId,
    role: 'user',
    tokenVersion: 3,
    sessionId,
    ttlSeconds: 900,
    issuer: 'gpuaas-access',
    audience: 'gpuaas-api',
    ...overrides,
  });
  return { userId, sessionId, bearer: { authorization: `Bearer ${issued.token}` }, token: issued.token };
}

function callerOf(response: GraphQLResponse): Caller {
  expect(response.body.errors, response.text).toBeUndefined();
  return (response.body.data as { caller: Caller }).caller;
}

async function expectRefused(response: GraphQLResponse, status: number, code: string, reason?: string): Promise<void> {
  expect(response.status, response.text).toBe(status);
  expect(response.body.data).toBeUndefined();
  expect(response.body.errors).toHaveLength(1);
  expect(response.body.errors?.[0]?.extensions).toMatchObject({
    code,
    correlation_id: response.headers.get('x-correlation-id'),
    ...(reason ? { details: { reason } } : {}),
  });
}

describe('the gateway forwards a verified caller identity', () => {
  it('forwards an anonymous identity when no Authorization header is sent', async () => {
    const caller = callerOf(await postGraphQL(graphqlUrl, callerQuery, { 'x-correlation-id': 'corr-anonymous' }));
    expect(caller).toEqual({ userId: null, role: null, sessionId: null, tokenVersion: null, ip: '127.0.0.1', correlationId: 'corr-anonymous' });
  });

  it('forwards the user, role, session and token version of a valid access token', async () => {
    const { userId, sessionId, bearer } = await token({ role: 'admin' });
    const caller = callerOf(await postGraphQL(graphqlUrl, callerQuery, { ...bearer, 'x-correlation-id': 'corr-signed-in' }));
    expect(caller).toEqual({ userId, role: 'admin', sessionId, tokenVersion: 3, ip: '127.0.0.1', correlationId: 'corr-signed-in' });
  });

  it('refuses an expired token for the whole request, without calling a subgraph', async () => {
    const { bearer } = await token({ ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    const before = echoCalls;
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, bearer), 401, 'unauthenticated', 'expired');
    expect(echoCalls).toBe(before);
  });

  it('refuses a token whose signature does not match its key id', async () => {
    const impostor = await createSigningKey();
    const { bearer } = await token({ key: { ...impostor, kid: signingKey.kid } });
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, bearer), 401, 'unauthenticated', 'bad_signature');
  });

  it('refuses a token signed by a key the JWKS does not publish', async () => {
    const { bearer } = await token({ key: await createSigningKey() });
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, bearer), 401, 'unauthenticated', 'unknown_kid');
  });

  it('refuses a token for another audience or from another issuer', async () => {
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, (await token({ audience: 'someone-else' })).bearer), 401, 'unauthenticated', 'wrong_audience');
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, (await token({ issuer: 'gpuaas-other' })).bearer), 401, 'unauthenticated', 'wrong_issuer');
  });

  it('refuses an Authorization header that is not a bearer token instead of treating the caller as anonymous', async () => {
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, { authorization: 'Basic dXNlcjpwYXNz' }), 401, 'unauthenticated', 'malformed');
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, { authorization: 'Bearer not-a-jwt' }), 401, 'unauthenticated', 'malformed');
  });

  it('refuses the next request after the session is revoked (logout)', async () => {
    const { sessionId, bearer } = await token();
    expect(callerOf(await postGraphQL(graphqlUrl, callerQuery, bearer)).sessionId).toBe(sessionId);
    await revocation.revokeSession(sessionId, 900);
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, bearer), 401, 'unauthenticated', 'session_revoked');
  });

  it('refuses the next request after the user is suspended, with account_suspended', async () => {
    const { userId, bearer } = await token();
    expect(callerOf(await postGraphQL(graphqlUrl, callerQuery, bearer)).userId).toBe(userId);
    await revocation.markUserTokensRevokedBefore(userId, 4, 900, 'account_suspended');
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, bearer), 403, 'account_suspended');
  });

  it('refuses tokens older than the user token version after a bump, and accepts the new one', async () => {
    const { userId, bearer } = await token();
    await revocation.markUserTokensRevokedBefore(userId, 4, 900);
    await expectRefused(await postGraphQL(graphqlUrl, callerQuery, bearer), 401, 'unauthenticated', 'tokens_revoked');
    const fresh = await issueAccessToken({ key: signingKey, userId, role: 'user', tokenVersion: 4, sessionId: randomUUID(), ttlSeconds: 900, issuer: 'gpuaas-access', audience: 'gpuaas-api' });
    expect(callerOf(await postGraphQL(graphqlUrl, callerQuery, { authorization: `Bearer ${fresh.token}` })).userId).toBe(userId);
  });

  it('never accepts a token in the query string, not even a valid one', async () => {
    const { token: valid } = await token();
    const before = echoCalls;
    const post = await fetch(`${graphqlUrl}?access_token=${valid}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: callerQuery }),
    });
    const postBody = (await post.json()) as GraphQLResponse['body'];
    expect(post.status).toBe(400);
    expect(postBody.errors?.[0]?.extensions).toMatchObject({ code: 'validation_error', details: { fields: [{ field: 'query.access_token' }] } });

    const get = await fetch(`${graphqlUrl}?query=${encodeURIComponent(callerQuery)}&token=${valid}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(400);
    expect(((await get.json()) as GraphQLResponse['body']).errors?.[0]?.extensions?.['code']).toBe('validation_error');
    expect(echoCalls).toBe(before);
  });

  it('takes the client IP from X-Forwarded-For when the peer is loopback (the REST adapter)', async () => {
    expect(callerOf(await postGraphQL(graphqlUrl, callerQuery, { 'x-forwarded-for': '198.51.100.23' })).ip).toBe('198.51.100.23');
    expect(callerOf(await postGraphQL(graphqlUrl, callerQuery, { 'x-forwarded-for': 'spoofed-value' })).ip).toBe('127.0.0.1');
  });

  it('refuses an operation over the cost limit with query_too_complex, using the variables', async () => {
    const within = await postGraphQL(graphqlUrl, 'query($n: Int) { items(first: $n) { id name } }', {}, { n: 10 });
    expect(within.body).toEqual({ data: { items: Array.from({ length: 10 }, (_, index) => ({ id: String(index), name: `item ${index}` })) } });

    const response = await postGraphQL(graphqlUrl, 'query($n: Int) { items(first: $n) { id name } }', { 'x-correlation-id': 'corr-costly' }, { n: 600 });
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'query_too_complex', correlation_id: 'corr-costly', details: { max_cost: 1_000, cost: 1_201 } });
  });
});

describe('the gateway while Redis is unreachable', () => {
  it('is not ready and answers signed-in callers service_unavailable, while anonymous callers are still served', async () => {
    const offline = await startGateway({ redisUrl: `redis://127.0.0.1:${await closedPort()}` });
    const ready = await fetch(`${offline.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, { status: string }> }).checks['redis']?.status).toBe('failing');

    const { bearer } = await token();
    await expectRefused(await postGraphQL(`${offline.url}/graphql`, callerQuery, bearer), 503, 'service_unavailable');
    expect(callerOf(await postGraphQL(`${offline.url}/graphql`, callerQuery)).userId).toBeNull();
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

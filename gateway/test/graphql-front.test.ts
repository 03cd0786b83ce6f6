import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigningKey, issueAccessToken, type SigningKey } from '@gpuaas/auth';
import { createSubgraphService, type HttpService, type SubgraphContext } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { composeSupergraph, createGateway, JWKS_PATH, subgraphNames, type SubgraphName } from '../src/index.js';
import { gatewayConfig, testIdentitySecret, testRedisUrl } from './support/stack.js';
import { serveJwks } from './support/jwks-server.js';

// The node:http front for JSON POSTs must answer exactly what the Express route answers; each request here goes
// to a gateway with the front and to one without it, and status, the headers clients read and the body must match.
const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Caller { userId: ID ip: String correlationId: String! }
  type Query { caller: Caller! }
`);

let redis: TestRedis;
let signingKey: SigningKey;
let fronted: HttpService;
let expressOnly: HttpService;
let token: string;
const started: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  redis = await createTestRedis({ url: testRedisUrl });
  signingKey = await createSigningKey();
  const logger = createLogger('front-test', 'silent');
  const jwks = await serveJwks(signingKey, logger);
  started.push(jwks);
  const echo = await createSubgraphService({
    name: 'front-echo',
    host: '127.0.0.1',
    port: 0,
    logger,
    typeDefs,
    identitySecret: testIdentitySecret,
    resolvers: {
      Query: { caller: (_parent: unknown, _args: unknown, context: SubgraphContext) => ({ userId: context.identity.userId, ip: context.identity.ip, correlationId: context.correlationId }) },
    },
  });
  started.push(echo);
  const urls = Object.fromEntries(subgraphNames.map((name) => [name, `${echo.url}/graphql`])) as Record<SubgraphName, string>;
  const config = gatewayConfig(urls, redis.keyPrefix, { accessJwksUrl: `${jwks.url}${JWKS_PATH}` });
  const supergraphSdl = composeSupergraph([{ name: 'access', typeDefs }]);
  fronted = await createGateway(config, { supergraphSdl });
  started.push(fronted);
  expressOnly = await createGateway(config, { supergraphSdl, graphqlFront: false });
  started.push(expressOnly);
  const issued = await issueAccessToken({ key: signingKey, userId: randomUUID(), role: 'user', tokenVersion: 1, sessionId: randomUUID(), ttlSeconds: 900, issuer: 'gpuaas-access', audience: 'gpuaas-api' });
  token = issued.token;
});

afterAll(async () => {
  for (const service of started.reverse()) await service.close();
  await redis?.cleanup();
});

interface Sent {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

async function send(service: HttpService, request: Sent) {
  const response = await fetch(`${service.url}${request.path ?? '/graphql'}`, {
    method: request.method ?? 'POST',
    headers: { 'x-correlation-id': 'corr-front', ...request.headers },
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    correlationId: response.headers.get('x-correlation-id'),
    body: await response.text(),
  };
}

const json = { 'content-type': 'application/json' };
const callerQuery = JSON.stringify({ query: '{ caller { userId ip correlationId } }' });

describe('the /graphql front on node:http', () => {
  const cases: Array<[string, () => Sent]> = [
    ['an anonymous query', () => ({ headers: json, body: callerQuery })],
    ['a signed-in query with X-Forwarded-For', () => ({ headers: { ...json, authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' }, body: callerQuery })],
    ['a charset=utf-8 body', () => ({ headers: { 'content-type': 'application/json; charset=utf-8' }, body: callerQuery })],
    ['a malformed bearer', () => ({ headers: { ...json, authorization: 'Bearer nope' }, body: callerQuery })],
    ['a malformed bearer with a malformed body', () => ({ headers: { ...json, authorization: 'Bearer nope' }, body: '{' })],
    ['malformed JSON', () => ({ headers: json, body: '{"query": ' })],
    ['JSON that is not an object', () => ({ headers: json, body: '"{ caller { userId } }"' })],
    ['whitespace only', () => ({ headers: json, body: '   ' })],
    ['an empty body', () => ({ headers: json, body: '' })],
    ['an object without a query', () => ({ headers: json, body: '{"variables": {}}' })],
    ['a batch', () => ({ headers: json, body: `[${callerQuery}]` })],
    ['variables as a string', () => ({ headers: json, body: JSON.stringify({ query: '{ caller { userId } }', variables: '{}' }) })],
    ['an invalid field', () => ({ headers: json, body: JSON.stringify({ query: '{ caller { nope } }' }) })],
    ['a parse error', () => ({ headers: json, body: JSON.stringify({ query: '{ caller { ' }) })],
    ['an Accept that excludes JSON', () => ({ headers: { ...json, accept: 'text/html' }, body: callerQuery })],
    ['a text/plain body (left to Express)', () => ({ headers: { 'content-type': 'text/plain' }, body: callerQuery })],
    ['a token in the query string (left to Express)', () => ({ path: `/graphql?access_token=${token}`, headers: json, body: callerQuery })],
    ['a body over 1 MiB (left to Express)', () => ({ headers: json, body: JSON.stringify({ query: `{ caller { userId } } #${'x'.repeat(1024 * 1024)}` }) })],
    ['a GET (left to Express)', () => ({ method: 'GET', path: `/graphql?query=${encodeURIComponent('{ caller { userId } }')}`, headers: { 'apollo-require-preflight': 'true' } })],
  ];

  it.each(cases)('answers %s exactly as the Express route', async (_name, request) => {
    const viaFront = await send(fronted, request());
    const viaExpress = await send(expressOnly, request());

    expect(viaFront).toEqual(viaExpress);
  });

  it('makes up a correlation id when none is sent, and hands it to the subgraph', async () => {
    const response = await fetch(`${fronted.url}/graphql`, { method: 'POST', headers: json, body: callerQuery });
    const body = (await response.json()) as { data: { caller: { correlationId: string } } };

    expect(response.status).toBe(200);
    expect(body.data.caller.correlationId).toBe(response.headers.get('x-correlation-id'));
  });
});

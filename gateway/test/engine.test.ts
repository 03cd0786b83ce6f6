import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigningKey, createTokenRevocationStore, issueAccessToken, type SigningKey, type TokenRevocationStore } from '@gpuaas/auth';
import { createSubgraphService, type HttpService, type SubgraphContext } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { composeSupergraph, createGateway, createGatewayEngine, JWKS_PATH, subgraphNames, type GatewayCaller, type GatewayConfig, type GatewayEngine, type SubgraphName } from '../src/index.js';
import { gatewayConfig, postGraphQL, testIdentitySecret, testRedisUrl } from './support/stack.js';
import { serveJwks } from './support/jwks-server.js';

// The engine is what `/graphql` runs; each case asks it in process and over HTTP and expects the same answer.
const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Caller { userId: ID ip: String correlationId: String! }
  type Item { id: ID! next: Item }
  type Query { caller: Caller! items(first: Int): [Item!]! }
`);
const callerQuery = 'query Caller { caller { userId ip correlationId } }';

let redis: TestRedis;
let revocation: TokenRevocationStore;
let signingKey: SigningKey;
let engine: GatewayEngine;
let graphqlUrl: string;
const started: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  redis = await createTestRedis({ url: testRedisUrl });
  revocation = createTokenRevocationStore(redis, 'auth:');
  signingKey = await createSigningKey();
  const logger = createLogger('engine-test', 'silent');
  const jwks: HttpService = await serveJwks(signingKey, logger);
  started.push(jwks);
  const echo = await createSubgraphService({
    name: 'engine-echo',
    host: '127.0.0.1',
    port: 0,
    logger,
    typeDefs,
    identitySecret: testIdentitySecret,
    resolvers: {
      Query: {
        caller: (_parent: unknown, _args: unknown, context: SubgraphContext) => ({ userId: context.identity.userId, ip: context.identity.ip, correlationId: context.correlationId }),
        items: (_parent: unknown, args: { first?: number }) => Array.from({ length: args.first ?? 3 }, (_, index) => ({ id: String(index) })),
      },
    },
  });
  started.push(echo);
  const urls = Object.fromEntries(subgraphNames.map((name) => [name, `${echo.url}/graphql`])) as Record<SubgraphName, string>;
  const config: GatewayConfig = gatewayConfig(urls, redis.keyPrefix, { accessJwksUrl: `${jwks.url}${JWKS_PATH}`, maxQueryCost: 100, maxQueryDepth: 3 });
  const supergraphSdl = composeSupergraph([{ name: 'access', typeDefs }]);
  engine = await createGatewayEngine(config, { supergraphSdl });
  started.push(engine);
  const gateway = await createGateway(config, { supergraphSdl });
  started.push(gateway);
  graphqlUrl = `${gateway.url}/graphql`;
});

afterAll(async () => {
  for (const service of started.reverse()) await service.close();
  await redis?.cleanup();
});

async function bearer(): Promise<{ userId: string; sessionId: string; authorization: string }> {
  const userId = randomUUID();
  const sessionId = randomUUID();
  const issued = await issueAccessToken({ key: signingKey, userId, role: 'user', tokenVersion: 1, sessionId, ttlSeconds: 900, issuer: 'gpuaas-access', audience: 'gpuaas-api' });
  return { userId, sessionId, authorization: `Bearer ${issued.token}` };
}

/** The same request in process and over HTTP (through a loopback proxy that forwards the client address). */
async function both(document: string, caller: GatewayCaller, variables?: Record<string, unknown>) {
  const inProcess = await engine.execute({ document, variables }, caller);
  const headers: Record<string, string> = { 'x-correlation-id': caller.correlationId };
  if (caller.authorization !== undefined) headers['authorization'] = caller.authorization;
  if (caller.clientAddress !== undefined) headers['x-forwarded-for'] = caller.clientAddress;
  const overHttp = await postGraphQL(graphqlUrl, document, headers, variables);
  return { inProcess, overHttp: { status: overHttp.status, body: overHttp.body } };
}

describe('the gateway engine in process', () => {
  it('forwards the caller, its address and the correlation id to the subgraph, as /graphql does', async () => {
    const { userId, authorization } = await bearer();
    const { inProcess, overHttp } = await both(callerQuery, { authorization, correlationId: 'corr-engine-1', clientAddress: '198.51.100.7' });

    expect(inProcess).toEqual({ status: 200, body: { data: { caller: { userId, ip: '198.51.100.7', correlationId: 'corr-engine-1' } } } });
    expect(overHttp).toEqual(inProcess);
  });

  it('runs an anonymous caller without a token', async () => {
    const { inProcess, overHttp } = await both(callerQuery, { authorization: undefined, correlationId: 'corr-engine-anon', clientAddress: undefined });

    expect(inProcess.body.data).toEqual({ caller: { userId: null, ip: null, correlationId: 'corr-engine-anon' } });
    expect(overHttp.body.data).toEqual({ caller: { userId: null, ip: '127.0.0.1', correlationId: 'corr-engine-anon' } });
  });

  it('refuses a malformed, forged or revoked token with the status and body /graphql answers', async () => {
    const impostor = await createSigningKey();
    const forged = await issueAccessToken({ key: { ...impostor, kid: signingKey.kid }, userId: randomUUID(), role: 'user', tokenVersion: 1, sessionId: randomUUID(), ttlSeconds: 900, issuer: 'gpuaas-access', audience: 'gpuaas-api' });
    const revoked = await bearer();
    await revocation.revokeSession(revoked.sessionId, 900);
    const suspended = await bearer();
    await revocation.markUserTokensRevokedBefore(suspended.userId, 2, 900, 'account_suspended');
    const cases = [
      ['Basic dXNlcjpwYXNz', 401, 'unauthenticated'],
      [`Bearer ${forged.token}`, 401, 'unauthenticated'],
      [revoked.authorization, 401, 'unauthenticated'],
      [suspended.authorization, 403, 'account_suspended'],
    ] as const;

    for (const [authorization, status, code] of cases) {
      const { inProcess, overHttp } = await both(callerQuery, { authorization, correlationId: `corr-${code}`, clientAddress: undefined });
      expect(inProcess.status, authorization).toBe(status);
      expect(inProcess.body.errors?.[0]?.extensions).toMatchObject({ code, correlation_id: `corr-${code}` });
      expect(inProcess.body.data).toBeUndefined();
      expect(overHttp).toEqual(inProcess);
    }
  });

  it('applies the depth limit, the cost limit (with variables) and validation as /graphql does', async () => {
    const caller = { authorization: undefined, correlationId: 'corr-engine-limits', clientAddress: undefined };
    const deep = await both('{ items(first: 1) { next { next { id } } } }', caller);
    expect(deep.inProcess.status).toBe(400);
    expect(deep.inProcess.body.errors?.[0]?.extensions).toEqual({ code: 'query_too_complex', correlation_id: 'corr-engine-limits', details: { max_depth: 3, depth: 4 } });
    expect(deep.overHttp).toEqual(deep.inProcess);

    const costly = await both('query($n: Int) { items(first: $n) { id } }', caller, { n: 200 });
    expect(costly.inProcess.status).toBe(400);
    expect(costly.inProcess.body.errors?.[0]?.extensions).toEqual({ code: 'query_too_complex', correlation_id: 'corr-engine-limits', details: { max_cost: 100, cost: 201 } });
    expect(costly.overHttp).toEqual(costly.inProcess);

    const invalid = await both('{ caller { noSuchField } }', caller);
    expect(invalid.inProcess.status).toBe(400);
    expect(invalid.inProcess.body.errors?.[0]?.extensions?.['code']).toBe('validation_error');
    expect(invalid.overHttp).toEqual(invalid.inProcess);
  });
});

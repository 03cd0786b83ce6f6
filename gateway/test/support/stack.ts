import { createAccessSubgraph, loadAccessConfig } from '@gpuaas/subgraph-access';
import { createBillingSubgraph, loadBillingConfig } from '@gpuaas/subgraph-billing';
import { createComputeSubgraph, loadComputeConfig } from '@gpuaas/subgraph-compute';
import { createPlatformSubgraph, loadPlatformConfig } from '@gpuaas/subgraph-platform';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '@gpuaas/subgraph-workloads';
import type { HttpService } from '@gpuaas/service-kit';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import { createGateway, DEFAULT_MAX_QUERY_COST, JWKS_PATH, type GatewayConfig, type SubgraphName } from '../../src/index.js';

export const testIdentitySecret = 'gateway-test-identity-secret-0123456789abcdef';
export const testRedisUrl = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** The environment every subgraph of a test stack is configured from, through its own config loader. */
export function subgraphEnv(databaseUrl: string, redis: TestRedis): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    GATEWAY_IDENTITY_SECRET: testIdentitySecret,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
  };
}

export function gatewayConfig(
  subgraphUrls: Record<SubgraphName, string>,
  redisKeyPrefix: string,
  overrides: Partial<GatewayConfig> = {},
): GatewayConfig {
  return {
    nodeEnv: 'test',
    logLevel: 'silent',
    host: '127.0.0.1',
    port: 0,
    subgraphUrls,
    redisUrl: testRedisUrl,
    redisKeyPrefix,
    accessJwksUrl: new URL(JWKS_PATH, subgraphUrls.access).toString(),
    trustedProxies: [],
    identitySecret: testIdentitySecret,
    maxQueryDepth: 12,
    maxQueryCost: DEFAULT_MAX_QUERY_COST,
    introspection: true,
    ...overrides,
  };
}

export interface Stack {
  readonly gateway: HttpService;
  readonly subgraphs: Readonly<Record<SubgraphName, HttpService>>;
  readonly database: TestDatabase;
  readonly redis: TestRedis;
  close(): Promise<void>;
}

/** The five subgraphs and the gateway in this process, each on a free port, over a fresh database and Redis prefix. */
export async function startStack(): Promise<Stack> {
  const database = await createTestDatabase();
  const redis = await createTestRedis({ url: testRedisUrl });
  const started: HttpService[] = [];
  const track = async (service: Promise<HttpService>) => {
    const running = await service;
    started.push(running);
    return running;
  };
  const closeAll = async () => {
    for (const service of started.reverse()) await service.close();
    await redis.cleanup();
    await database.drop();
  };
  try {
    const env = subgraphEnv(database.url, redis);
    const subgraphs = {
      access: await track(createAccessSubgraph(loadAccessConfig(env))),
      compute: await track(createComputeSubgraph(loadComputeConfig(env))),
      billing: await track(createBillingSubgraph(loadBillingConfig(env))),
      workloads: await track(createWorkloadsSubgraph(loadWorkloadsConfig(env))),
      platform: await track(createPlatformSubgraph(loadPlatformConfig(env))),
    };
    const gateway = await track(createGateway(gatewayConfig(graphqlUrls(subgraphs), redis.keyPrefix)));
    return { gateway, subgraphs, database, redis, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

export function graphqlUrls(services: Readonly<Record<SubgraphName, HttpService>>): Record<SubgraphName, string> {
  return Object.fromEntries(Object.entries(services).map(([name, service]) => [name, `${service.url}/graphql`])) as Record<SubgraphName, string>;
}

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  text: string;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

export async function postGraphQL(
  url: string,
  query: string,
  headers: Record<string, string> = {},
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as GraphQLResponse['body'] };
}

import { createAccessSubgraph } from '@gpuaas/subgraph-access';
import { createBillingSubgraph } from '@gpuaas/subgraph-billing';
import { createComputeSubgraph } from '@gpuaas/subgraph-compute';
import { createPlatformSubgraph } from '@gpuaas/subgraph-platform';
import { createWorkloadsSubgraph } from '@gpuaas/subgraph-workloads';
import type { HttpService, SubgraphSettings } from '@gpuaas/service-kit';
import { createGateway, type GatewayConfig, type SubgraphName } from '../../src/index.js';

/** Subgraphs only run `SELECT 1` for readiness, so the always-present maintenance database is enough. */
export const testDatabaseUrl = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const testGatewaySecret = 'gateway-test-secret-0123456789';

export function subgraphSettings(overrides: Partial<SubgraphSettings> = {}): SubgraphSettings {
  return {
    nodeEnv: 'test',
    logLevel: 'silent',
    host: '127.0.0.1',
    port: 0,
    databaseUrl: testDatabaseUrl,
    gatewaySecret: testGatewaySecret,
    introspection: true,
    ...overrides,
  };
}

export function gatewayConfig(subgraphUrls: Record<SubgraphName, string>, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    nodeEnv: 'test',
    logLevel: 'silent',
    host: '127.0.0.1',
    port: 0,
    subgraphUrls,
    gatewaySecret: testGatewaySecret,
    maxQueryDepth: 12,
    introspection: true,
    ...overrides,
  };
}

export interface Stack {
  readonly gateway: HttpService;
  readonly subgraphs: Readonly<Record<SubgraphName, HttpService>>;
  close(): Promise<void>;
}

/** The five subgraphs and the gateway in this process, each on a free port. */
export async function startStack(): Promise<Stack> {
  const started: HttpService[] = [];
  const track = async (service: Promise<HttpService>) => {
    const running = await service;
    started.push(running);
    return running;
  };
  const closeAll = async () => {
    for (const service of started.reverse()) await service.close();
  };
  try {
    const subgraphs = {
      access: await track(createAccessSubgraph(subgraphSettings())),
      compute: await track(createComputeSubgraph(subgraphSettings())),
      billing: await track(createBillingSubgraph(subgraphSettings())),
      workloads: await track(createWorkloadsSubgraph(subgraphSettings())),
      platform: await track(createPlatformSubgraph(subgraphSettings())),
    };
    const urls = Object.fromEntries(Object.entries(subgraphs).map(([name, service]) => [name, `${service.url}/graphql`])) as Record<SubgraphName, string>;
    const gateway = await track(createGateway(gatewayConfig(urls)));
    return { gateway, subgraphs, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
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

export async function postGraphQL(url: string, query: string, headers: Record<string, string> = {}): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as GraphQLResponse['body'] };
}

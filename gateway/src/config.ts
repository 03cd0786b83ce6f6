import { commonEnv, loadConfig, port, z } from '@gpuaas/config';
import { gatewaySecretEnv, gatewaySecretOrDefault, refineGatewaySecret } from '@gpuaas/service-kit';
import type { SubgraphName } from './supergraph.js';

const subgraphUrl = (defaultPort: number) => z.string().url().default(`http://127.0.0.1:${defaultPort}/graphql`);

const schema = z
  .object({
    ...commonEnv,
    PORT: port(4001),
    ACCESS_URL: subgraphUrl(4101),
    COMPUTE_URL: subgraphUrl(4102),
    BILLING_URL: subgraphUrl(4103),
    WORKLOADS_URL: subgraphUrl(4104),
    PLATFORM_URL: subgraphUrl(4105),
    GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).max(64).default(12),
    ...gatewaySecretEnv,
  })
  .superRefine(refineGatewaySecret);

export interface GatewayConfig {
  readonly nodeEnv: 'development' | 'test' | 'production';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Each subgraph's `/graphql` URL; the supergraph's own URLs are placeholders. */
  readonly subgraphUrls: Readonly<Record<SubgraphName, string>>;
  readonly gatewaySecret: string;
  readonly maxQueryDepth: number;
  /** Off in production: clients there use the published schema, not introspection. */
  readonly introspection: boolean;
}

/** The only reader of process.env for the gateway; throws a ConfigError listing every problem. */
export function loadGatewayConfig(env: Readonly<Record<string, string | undefined>> = process.env): GatewayConfig {
  const parsed = loadConfig(schema, env);
  return {
    nodeEnv: parsed.NODE_ENV,
    logLevel: parsed.LOG_LEVEL,
    host: parsed.HOST,
    port: parsed.PORT,
    subgraphUrls: {
      access: parsed.ACCESS_URL,
      compute: parsed.COMPUTE_URL,
      billing: parsed.BILLING_URL,
      workloads: parsed.WORKLOADS_URL,
      platform: parsed.PLATFORM_URL,
    },
    gatewaySecret: gatewaySecretOrDefault(parsed),
    maxQueryDepth: parsed.GRAPHQL_MAX_DEPTH,
    introspection: parsed.NODE_ENV !== 'production',
  };
}

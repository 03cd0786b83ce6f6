import { commonEnv, loadConfig, port, redisEnv, z } from '@gpuaas/config';
import { identitySecretEnv, identitySecretOrDefault, refineGatewaySecret } from '@gpuaas/service-kit';
import { parseTrustedProxies } from './client-ip.js';
import type { SubgraphName } from './supergraph.js';

const subgraphUrl = (defaultPort: number) => z.string().url().default(`http://127.0.0.1:${defaultPort}/graphql`);

/** Where access publishes its token verification keys (served by the access subgraph beside its /graphql). */
export const JWKS_PATH = '/.well-known/jwks.json';
/** The `iss` and `aud` of the access tokens the access subgraph issues. */
export const ACCESS_TOKEN_ISSUER = 'gpuaas-access';
export const ACCESS_TOKEN_AUDIENCE = 'gpuaas-api';
/**
 * Above the heaviest operation the REST contract can make the adapter send (v3ListAccessProjects: 200 projects
 * with up to 100 members inline, ≈ 184 000), far below a pathological nesting (four nested lists: millions).
 */
export const DEFAULT_MAX_QUERY_COST = 250_000;

const schema = z
  .object({
    ...commonEnv,
    ...redisEnv,
    PORT: port(4001),
    ACCESS_URL: subgraphUrl(4101),
    COMPUTE_URL: subgraphUrl(4102),
    BILLING_URL: subgraphUrl(4103),
    WORKLOADS_URL: subgraphUrl(4104),
    PLATFORM_URL: subgraphUrl(4105),
    ACCESS_JWKS_URL: z.string().url().optional(),
    TRUSTED_PROXIES: z.string().default(''),
    GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).max(64).default(12),
    GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(DEFAULT_MAX_QUERY_COST),
    ...identitySecretEnv,
  })
  .superRefine(refineGatewaySecret)
  .superRefine((env, ctx) => {
    try {
      parseTrustedProxies(splitList(env.TRUSTED_PROXIES));
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['TRUSTED_PROXIES'], message: (error as Error).message });
    }
  });

export interface GatewayConfig {
  readonly nodeEnv: 'development' | 'test' | 'production';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Each subgraph's `/graphql` URL; the supergraph's own URLs are placeholders. */
  readonly subgraphUrls: Readonly<Record<SubgraphName, string>>;
  /** Revocation marks live here, under `<redisKeyPrefix>auth:`, written by the access subgraph. */
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  /** The access subgraph's JWKS; access tokens are verified against it. */
  readonly accessJwksUrl: string;
  /** Peers (besides loopback) whose X-Forwarded-For is believed: IP addresses or CIDR ranges. */
  readonly trustedProxies: readonly string[];
  /** Signs the caller identity forwarded to subgraphs (`X-Gateway-Identity`); shared with every subgraph. */
  readonly identitySecret: string;
  readonly maxQueryDepth: number;
  readonly maxQueryCost: number;
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
    redisUrl: parsed.REDIS_URL,
    redisKeyPrefix: parsed.REDIS_KEY_PREFIX,
    accessJwksUrl: parsed.ACCESS_JWKS_URL ?? new URL(JWKS_PATH, parsed.ACCESS_URL).toString(),
    trustedProxies: splitList(parsed.TRUSTED_PROXIES),
    identitySecret: identitySecretOrDefault(parsed),
    maxQueryDepth: parsed.GRAPHQL_MAX_DEPTH,
    maxQueryCost: parsed.GRAPHQL_MAX_COST,
    introspection: parsed.NODE_ENV !== 'production',
  };
}

function splitList(value: string): string[] {
  return value.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
}

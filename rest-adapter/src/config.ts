import { commonEnv, ConfigError, loadConfig, natsEnv, port, redisEnv, resolvePolicies, z, type Policies } from '@gpuaas/config';
import { loadGatewayConfig, type GatewayConfig } from '@gpuaas/gateway';
import { defaultOpenApiPath } from './contract/load-contract.js';

export const restAdapterEnv = z.object({
  ...commonEnv,
  ...redisEnv,
  ...natsEnv,
  /** The compute database for the node-agent API (/internal/v1); without it those operations answer 501. */
  DATABASE_URL: z.string().url().optional(),
  PORT: port(4000),
  /**
   * `embedded` runs the gateway's engine in this process (configured from the gateway's own variables on this same
   * environment); `remote` POSTs to GATEWAY_URL. Unset: `remote` when GATEWAY_URL is set, otherwise `embedded`.
   */
  GATEWAY_MODE: z.enum(['embedded', 'remote']).optional(),
  GATEWAY_URL: z.string().url().optional(),
  /** How long one GraphQL call may take before the request answers 503 service_unavailable. */
  GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
  /** The bundled contract; defaults to doc/api/openapi.yaml in this repository. */
  OPENAPI_PATH: z.string().min(1).default(defaultOpenApiPath),
  /** Largest accepted request body, in body-parser's notation (`100kb`, `1mb`). */
  /** Verifies Stripe webhooks (served with the node-agent API, when DATABASE_URL is set). */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).default('whsec_gpuaas_dev'),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 512kb or 1mb').default('1mb'),
});

export interface RestAdapterConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** How handlers reach the GraphQL gateway: its engine in this process, or over HTTP at `gatewayUrl`. */
  gatewayMode: GatewayMode;
  /** The gateway's `/graphql` (remote mode). */
  gatewayUrl: string;
  /** The embedded gateway's settings, read by the gateway's own loader from the same environment (embedded mode only). */
  gateway?: GatewayConfig | undefined;
  gatewayTimeoutMs: number;
  openapiPath: string;
  bodyLimit: string;
  redisUrl: string;
  /** Prefix of every Redis key the adapter writes (idempotency records), so deployments and tests never share keys. */
  redisKeyPrefix: string;
  /** Policy `idempotency_retention_hours`, in seconds. */
  idempotencyRetentionSeconds: number;
  /** Serves /internal/v1 from the compute domain when set (with NATS for long-poll wakes). */
  databaseUrl?: string | undefined;
  natsUrl: string;
  natsNamespace: string;
  policies: Policies;
  /** The Stripe webhook's secret and signature-timestamp tolerance. */
  stripe: { webhookSecret: string; webhookToleranceSeconds: number };
  logLevel: z.infer<typeof commonEnv.LOG_LEVEL>;
  nodeEnv: z.infer<typeof commonEnv.NODE_ENV>;
}

export type GatewayMode = 'embedded' | 'remote';

const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:4001/graphql';

/** Parses an environment (main.ts passes process.env); throws a ConfigError listing every problem. */
export function loadRestAdapterConfig(env: Readonly<Record<string, string | undefined>>): RestAdapterConfig {
  const problems: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const parsed = attempt(() => loadConfig(restAdapterEnv, env));
  const gatewayMode: GatewayMode = parsed?.GATEWAY_MODE ?? (env['GATEWAY_URL'] !== undefined ? 'remote' : 'embedded');
  // The engine listens on nothing, so the gateway's PORT is not asked for; shared variables (NODE_ENV, REDIS_*,
  // LOG_LEVEL) are read once and reported once.
  const gateway = gatewayMode === 'embedded' ? attempt(() => loadGatewayConfig({ ...env, PORT: undefined })) : undefined;
  if (!parsed || problems.length > 0) throw new ConfigError([...new Set(problems)]);
  const policies = resolvePolicies(env);
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    gatewayMode,
    gatewayUrl: parsed.GATEWAY_URL ?? DEFAULT_GATEWAY_URL,
    gateway,
    gatewayTimeoutMs: parsed.GATEWAY_TIMEOUT_MS,
    openapiPath: parsed.OPENAPI_PATH,
    bodyLimit: parsed.BODY_LIMIT,
    redisUrl: parsed.REDIS_URL,
    redisKeyPrefix: parsed.REDIS_KEY_PREFIX,
    idempotencyRetentionSeconds: policies.idempotency_retention_hours * 3600,
    databaseUrl: parsed.DATABASE_URL,
    natsUrl: parsed.NATS_URL,
    natsNamespace: parsed.NATS_NAMESPACE,
    policies,
    stripe: { webhookSecret: parsed.STRIPE_WEBHOOK_SECRET, webhookToleranceSeconds: parsed.STRIPE_WEBHOOK_TOLERANCE_SECONDS },
    logLevel: parsed.LOG_LEVEL,
    nodeEnv: parsed.NODE_ENV,
  };
}

/**
 * Every default with some overrides, for tests and the dev launcher: `defaultRestAdapterConfig({ port: 0 })`. As
 * with the environment, a `gatewayUrl` alone means remote mode; without an explicit `gateway`, the embedded
 * engine shares the adapter's Redis, key prefix, log level and NODE_ENV.
 */
export function defaultRestAdapterConfig(overrides: Partial<RestAdapterConfig> = {}): RestAdapterConfig {
  const merged = { ...loadRestAdapterConfig({}), ...overrides };
  const gatewayMode = overrides.gatewayMode ?? (overrides.gatewayUrl !== undefined ? 'remote' : merged.gatewayMode);
  if (gatewayMode === 'remote') return { ...merged, gatewayMode, gateway: undefined };
  const gateway = overrides.gateway ?? {
    ...loadGatewayConfig({}),
    redisUrl: merged.redisUrl,
    redisKeyPrefix: merged.redisKeyPrefix,
    logLevel: merged.logLevel,
    nodeEnv: merged.nodeEnv,
    introspection: merged.nodeEnv !== 'production',
  };
  return { ...merged, gatewayMode, gateway };
}

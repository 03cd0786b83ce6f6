import { loadConfig, natsEnv, redisEnv, resolvePolicies, z, type Policies } from '@gpuaas/config';
import { refineGatewaySecret, subgraphEnv, subgraphSettings, type SubgraphSettings } from '@gpuaas/service-kit';

/** The compute subgraph's environment: the subgraph basics plus NATS (events, live signals) and Redis. */
const schema = z
  .object({
    ...subgraphEnv(4102),
    ...natsEnv,
    ...redisEnv,
    /** Absolute base URL browsers open terminal websockets on (the rest-adapter's public address, ws:// or wss://). */
    TERMINAL_WS_BASE_URL: z.string().url().default('ws://127.0.0.1:4000'),
  })
  .superRefine(refineGatewaySecret);

export interface ComputeConfig extends SubgraphSettings {
  readonly natsUrl: string;
  readonly natsNamespace: string;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly terminalWsBaseUrl: string;
  readonly policies: Policies;
}

/** The only reader of process.env for this deployable; throws a ConfigError listing every problem. */
export function loadComputeConfig(env: Readonly<Record<string, string | undefined>> = process.env): ComputeConfig {
  const parsed = loadConfig(schema, env);
  return {
    ...subgraphSettings(parsed),
    natsUrl: parsed.NATS_URL,
    natsNamespace: parsed.NATS_NAMESPACE,
    redisUrl: parsed.REDIS_URL,
    redisKeyPrefix: parsed.REDIS_KEY_PREFIX,
    terminalWsBaseUrl: parsed.TERMINAL_WS_BASE_URL,
    policies: resolvePolicies(env),
  };
}

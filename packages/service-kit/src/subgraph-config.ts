import { ConfigError, commonEnv, databaseEnv, port, z } from '@gpuaas/config';
import { DEV_GATEWAY_SHARED_SECRET } from './gateway-secret.js';

/** The env field for the gateway↔subgraph secret; compose it into a deployable's schema with `refineGatewaySecret`. */
export const gatewaySecretEnv = {
  GATEWAY_SHARED_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
};

/** Production must set its own secret; the built-in dev secret is public and refused there. */
export function refineGatewaySecret(
  env: { NODE_ENV: string; GATEWAY_SHARED_SECRET?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (env.NODE_ENV !== 'production') return;
  if (env.GATEWAY_SHARED_SECRET === undefined) {
    ctx.addIssue({ code: 'custom', path: ['GATEWAY_SHARED_SECRET'], message: 'required when NODE_ENV=production' });
  } else if (env.GATEWAY_SHARED_SECRET === DEV_GATEWAY_SHARED_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['GATEWAY_SHARED_SECRET'], message: 'the development default may not be used in production' });
  }
}

export function gatewaySecretOrDefault(env: { NODE_ENV: string; GATEWAY_SHARED_SECRET?: string | undefined }): string {
  if (env.GATEWAY_SHARED_SECRET !== undefined) return env.GATEWAY_SHARED_SECRET;
  if (env.NODE_ENV === 'production') throw new ConfigError(['GATEWAY_SHARED_SECRET: required when NODE_ENV=production']);
  return DEV_GATEWAY_SHARED_SECRET;
}

/** The env every subgraph reads; a domain spreads it into its own schema and adds its own fields. */
export function subgraphEnv(defaultPort: number) {
  return { ...commonEnv, ...databaseEnv, PORT: port(defaultPort), ...gatewaySecretEnv };
}

export interface SubgraphSettings {
  readonly nodeEnv: z.infer<typeof commonEnv.NODE_ENV>;
  readonly logLevel: z.infer<typeof commonEnv.LOG_LEVEL>;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly databaseUrl: string;
  readonly gatewaySecret: string;
  readonly introspection: boolean;
}

type SubgraphEnv = z.infer<z.ZodObject<ReturnType<typeof subgraphEnv>>>;

/** Maps the parsed env onto the settings `createSubgraphService`-based factories take. */
export function subgraphSettings(env: SubgraphEnv): SubgraphSettings {
  return {
    nodeEnv: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    host: env.HOST,
    port: env.PORT,
    databaseUrl: env.DATABASE_URL,
    gatewaySecret: gatewaySecretOrDefault(env),
    introspection: env.NODE_ENV !== 'production',
  };
}

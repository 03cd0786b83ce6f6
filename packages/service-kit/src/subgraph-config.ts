import { MIN_IDENTITY_SECRET_BYTES } from '@gpuaas/auth';
import { ConfigError, commonEnv, databaseEnv, port, z } from '@gpuaas/config';
import { DEV_GATEWAY_IDENTITY_SECRET } from './gateway-identity.js';

/**
 * The env field for the key the gateway signs caller identities with (HS256); the gateway and every subgraph must
 * share it. Compose it into a deployable's schema with `refineGatewaySecret`.
 */
export const identitySecretEnv = {
  GATEWAY_IDENTITY_SECRET: z
    .string()
    .refine((value) => Buffer.byteLength(value, 'utf8') >= MIN_IDENTITY_SECRET_BYTES, `must be at least ${MIN_IDENTITY_SECRET_BYTES} bytes`)
    .optional(),
};

interface IdentitySecretFields {
  NODE_ENV: string;
  GATEWAY_IDENTITY_SECRET?: string | undefined;
}

/** Production must set its own identity secret; the built-in dev secret is public and refused there. */
export function refineGatewaySecret(env: IdentitySecretFields, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV !== 'production') return;
  if (env.GATEWAY_IDENTITY_SECRET === undefined) {
    ctx.addIssue({ code: 'custom', path: ['GATEWAY_IDENTITY_SECRET'], message: 'required when NODE_ENV=production' });
  } else if (env.GATEWAY_IDENTITY_SECRET === DEV_GATEWAY_IDENTITY_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['GATEWAY_IDENTITY_SECRET'], message: 'the development default may not be used in production' });
  }
}

export function identitySecretOrDefault(env: IdentitySecretFields): string {
  if (env.GATEWAY_IDENTITY_SECRET !== undefined) return env.GATEWAY_IDENTITY_SECRET;
  if (env.NODE_ENV === 'production') throw new ConfigError(['GATEWAY_IDENTITY_SECRET: required when NODE_ENV=production']);
  return DEV_GATEWAY_IDENTITY_SECRET;
}

/** The env every subgraph reads; a domain spreads it into its own schema and adds its own fields. */
export function subgraphEnv(defaultPort: number) {
  return { ...commonEnv, ...databaseEnv, PORT: port(defaultPort), ...identitySecretEnv };
}

export interface SubgraphSettings {
  readonly nodeEnv: z.infer<typeof commonEnv.NODE_ENV>;
  readonly logLevel: z.infer<typeof commonEnv.LOG_LEVEL>;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly databaseUrl: string;
  /** Verifies the gateway's `X-Gateway-Identity`; pass it to `createSubgraphService` as `identitySecret`. */
  readonly identitySecret: string;
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
    identitySecret: identitySecretOrDefault(env),
    introspection: env.NODE_ENV !== 'production',
  };
}

import { ConfigError, loadConfig, redisEnv, resolvePolicies, z, type Policies } from '@gpuaas/config';
import { parseOidcProviders, type OidcConfig } from '@gpuaas/oidc';
import { refineGatewaySecret, subgraphEnv, subgraphSettings, type SubgraphSettings } from '@gpuaas/service-kit';

export const MAIL_SENDERS = ['outbox'] as const;
export type MailSenderKind = (typeof MAIL_SENDERS)[number];

const schema = z
  .object({
    ...subgraphEnv(4101),
    ...redisEnv,
    ACCESS_TOKEN_ISSUER: z.string().min(1).default('gpuaas-access'),
    ACCESS_TOKEN_AUDIENCE: z.string().min(1).default('gpuaas-api'),
    OIDC_ALLOW_INSECURE_LOOPBACK: z
      .enum(['true', 'false', '1', '0'])
      .default('false')
      .transform((value) => value === 'true' || value === '1'),
    MAIL_SENDER: z.enum(MAIL_SENDERS).optional(),
    PASSWORD_RESET_URL: z.url().default('http://127.0.0.1:5173/reset-password'),
  })
  .superRefine(refineGatewaySecret)
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    if (env.OIDC_ALLOW_INSECURE_LOOPBACK) {
      ctx.addIssue({ code: 'custom', path: ['OIDC_ALLOW_INSECURE_LOOPBACK'], message: 'may not be enabled when NODE_ENV=production' });
    }
    // The outbox table is a dev/test sink; production must choose its sender on purpose.
    if (env.MAIL_SENDER === undefined) {
      ctx.addIssue({ code: 'custom', path: ['MAIL_SENDER'], message: 'required when NODE_ENV=production' });
    }
  });

export type AccessPolicies = Pick<
  Policies,
  | 'access_token_ttl_seconds'
  | 'refresh_token_ttl_days'
  | 'password_reset_token_ttl_seconds'
  | 'login_attempts_per_account_per_15m'
  | 'login_attempts_per_ip_per_15m'
>;

export interface AccessConfig extends SubgraphSettings {
  readonly redisUrl: string;
  /** Deployment-wide key prefix; rate limits, revocation marks and OIDC login states live below it. */
  readonly redisKeyPrefix: string;
  readonly tokenIssuer: string;
  readonly tokenAudience: string;
  readonly oidc: OidcConfig;
  /** Lets an `http://` OIDC issuer on loopback through (the test IdP); refused in production. */
  readonly oidcAllowInsecureLoopback: boolean;
  readonly policies: AccessPolicies;
  readonly mailSender: MailSenderKind;
  /** Console page the password reset mail links to (`?token=` is appended). */
  readonly passwordResetUrl: string;
}

/**
 * The only reader of process.env for this deployable. The base schema, the OIDC providers and the policies are
 * parsed separately but reported together: one ConfigError lists every problem.
 */
export function loadAccessConfig(env: Readonly<Record<string, string | undefined>> = process.env): AccessConfig {
  const problems: string[] = [];
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const base = attempt(() => loadConfig(schema, env));
  const oidc = attempt(() => parseOidcProviders(env));
  const policies = attempt(() => resolvePolicies(env));
  if (!base || !oidc || !policies) throw new ConfigError(problems);

  return {
    ...subgraphSettings(base),
    redisUrl: base.REDIS_URL,
    redisKeyPrefix: base.REDIS_KEY_PREFIX,
    tokenIssuer: base.ACCESS_TOKEN_ISSUER,
    tokenAudience: base.ACCESS_TOKEN_AUDIENCE,
    oidc,
    oidcAllowInsecureLoopback: base.OIDC_ALLOW_INSECURE_LOOPBACK,
    policies: {
      access_token_ttl_seconds: policies.access_token_ttl_seconds,
      refresh_token_ttl_days: policies.refresh_token_ttl_days,
      password_reset_token_ttl_seconds: policies.password_reset_token_ttl_seconds,
      login_attempts_per_account_per_15m: policies.login_attempts_per_account_per_15m,
      login_attempts_per_ip_per_15m: policies.login_attempts_per_ip_per_15m,
    },
    mailSender: base.MAIL_SENDER ?? 'outbox',
    passwordResetUrl: base.PASSWORD_RESET_URL,
  };
}

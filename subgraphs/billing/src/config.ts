import { loadConfig, natsEnv, redisEnv, resolvePolicies, z, type Policies } from '@gpuaas/config';
import { refineGatewaySecret, subgraphEnv, subgraphSettings, type SubgraphSettings } from '@gpuaas/service-kit';

/** The billing subgraph's environment: the subgraph basics plus NATS, Redis and Stripe. */
const schema = z
  .object({
    ...subgraphEnv(4103),
    ...natsEnv,
    ...redisEnv,
    /** Secret API key; tests point STRIPE_API_BASE_URL at a loopback server speaking Stripe's API shapes. */
    STRIPE_SECRET_KEY: z.string().min(1).default('sk_test_gpuaas_dev'),
    STRIPE_API_BASE_URL: z.string().url().optional(),
    STRIPE_WEBHOOK_SECRET: z.string().min(1).default('whsec_gpuaas_dev'),
    /** How far a webhook signature's timestamp may lie from now, either way, before the delivery is refused. */
    STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
    /** Where Stripe Checkout sends the browser back (the console's pages). */
    CHECKOUT_SUCCESS_URL: z.string().url().default('http://127.0.0.1:5173/billing/checkout/success'),
    CHECKOUT_CANCEL_URL: z.string().url().default('http://127.0.0.1:5173/billing/checkout/cancel'),
  })
  .superRefine(refineGatewaySecret);

export interface StripeSettings {
  readonly secretKey: string;
  /** Unset in production (the SDK's default host); set to a loopback URL in tests. */
  readonly apiBaseUrl: string | undefined;
  readonly webhookSecret: string;
  /** Seconds a signature's timestamp may be old (or ahead); 300 when unset. */
  readonly webhookToleranceSeconds?: number;
  readonly checkoutSuccessUrl: string;
  readonly checkoutCancelUrl: string;
}

export interface BillingConfig extends SubgraphSettings {
  readonly natsUrl: string;
  readonly natsNamespace: string;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly stripe: StripeSettings;
  readonly policies: Policies;
}

/** The only reader of process.env for this deployable; throws a ConfigError listing every problem. */
export function loadBillingConfig(env: Readonly<Record<string, string | undefined>> = process.env): BillingConfig {
  const parsed = loadConfig(schema, env);
  return {
    ...subgraphSettings(parsed),
    natsUrl: parsed.NATS_URL,
    natsNamespace: parsed.NATS_NAMESPACE,
    redisUrl: parsed.REDIS_URL,
    redisKeyPrefix: parsed.REDIS_KEY_PREFIX,
    stripe: {
      secretKey: parsed.STRIPE_SECRET_KEY,
      apiBaseUrl: parsed.STRIPE_API_BASE_URL,
      webhookSecret: parsed.STRIPE_WEBHOOK_SECRET,
      webhookToleranceSeconds: parsed.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
      checkoutSuccessUrl: parsed.CHECKOUT_SUCCESS_URL,
      checkoutCancelUrl: parsed.CHECKOUT_CANCEL_URL,
    },
    policies: resolvePolicies(env),
  };
}

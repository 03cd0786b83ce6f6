import { commonEnv, databaseEnv, loadConfig, natsEnv, port, resolvePolicies, z, type Policies } from '@gpuaas/config';

/** What one workers process can run; production runs each role as its own replica set, dev runs them all. */
export const workerRoles = ['outbox-relay', 'dlq-handler', 'provisioning-worker', 'billing-worker', 'webhook-worker', 'node-monitor', 'notification-relay'] as const;
export type WorkerRole = (typeof workerRoles)[number];

const rolesList = z
  .string()
  .default('all')
  .transform((value, context) => {
    const requested = value.split(',').map((role) => role.trim()).filter(Boolean);
    if (requested.length === 0 || requested.includes('all')) return [...workerRoles];
    const unknown = requested.filter((role) => !(workerRoles as readonly string[]).includes(role));
    if (unknown.length > 0) {
      context.addIssue({ code: 'custom', message: `unknown role(s) ${unknown.join(', ')}; expected "all" or a comma list of ${workerRoles.join(', ')}` });
      return z.NEVER;
    }
    return [...new Set(requested)] as WorkerRole[];
  });

const schema = z.object({
  ...commonEnv,
  ...databaseEnv,
  ...natsEnv,
  PORT: port(4201),
  WORKER_ROLES: rolesList,
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  CONSUMER_MAX_DELIVER: z.coerce.number().int().min(1).max(100).default(5),
  CONSUMER_ACK_WAIT_MS: z.coerce.number().int().min(100).default(30_000),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
});

export interface WorkersConfig {
  readonly nodeEnv: 'development' | 'test' | 'production';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly host: string;
  /** Health/metrics port; 0 picks a free one. */
  readonly port: number;
  readonly databaseUrl: string;
  /**
   * Connections shared by every role of the process: the provisioning-worker alone handles up to 16 events at once,
   * beside the relay, billing and notification consumers, so a handful would queue them behind one another.
   */
  readonly databasePoolSize: number;
  readonly natsUrl: string;
  /** Prefix of stream names and subjects; empty in production, unique per test run. */
  readonly natsNamespace: string;
  readonly roles: readonly WorkerRole[];
  readonly outboxBatchSize: number;
  readonly outboxPollIntervalMs: number;
  /** Deliveries before a consumer dead-letters a failing message. */
  readonly maxDeliver: number;
  /** How long a delivered message may go without an outcome before it is redelivered (a crashed worker's messages). */
  readonly consumerAckWaitMs: number;
  /** Operator policies (POLICY_* variables), e.g. the metering tick and low-balance thresholds. */
  readonly policies: Policies;
}

/** The only reader of process.env for the workers; throws a ConfigError listing every problem. */
export function loadWorkersConfig(env: Readonly<Record<string, string | undefined>> = process.env): WorkersConfig {
  const parsed = loadConfig(schema, env);
  return {
    nodeEnv: parsed.NODE_ENV,
    logLevel: parsed.LOG_LEVEL,
    host: parsed.HOST,
    port: parsed.PORT,
    databaseUrl: parsed.DATABASE_URL,
    databasePoolSize: parsed.DATABASE_POOL_SIZE,
    natsUrl: parsed.NATS_URL,
    natsNamespace: parsed.NATS_NAMESPACE,
    roles: parsed.WORKER_ROLES,
    outboxBatchSize: parsed.OUTBOX_BATCH_SIZE,
    outboxPollIntervalMs: parsed.OUTBOX_POLL_INTERVAL_MS,
    maxDeliver: parsed.CONSUMER_MAX_DELIVER,
    consumerAckWaitMs: parsed.CONSUMER_ACK_WAIT_MS,
    policies: resolvePolicies(env),
  };
}

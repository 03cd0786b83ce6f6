import { z } from 'zod';
import { ConfigError } from './policies.js';

/**
 * Parses the environment with a zod schema and reports every problem at once. The only place in the
 * codebase that touches `process.env` is a deployable's `config.ts`, which passes it here.
 */
export function loadConfig<Schema extends z.ZodType>(schema: Schema, env: Readonly<Record<string, string | undefined>>): z.infer<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new ConfigError(problems);
}

/** Loads config or prints every problem and exits; for `main.ts` files. */
export function loadConfigOrExit<Schema extends z.ZodType>(schema: Schema, env: Readonly<Record<string, string | undefined>>): z.infer<Schema> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/** Fields most deployables share; compose them into a deployable's own schema. */
export const commonEnv = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
};

export const databaseEnv = { DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/gpuaas') };
export const natsEnv = {
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** Prefix for stream and consumer names, so parallel test runs never share them. */
  NATS_NAMESPACE: z.string().regex(/^[A-Za-z0-9_]*$/).default(''),
};
export const redisEnv = {
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('gpuaas:'),
};
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export { z };

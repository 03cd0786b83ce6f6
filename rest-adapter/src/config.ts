import { commonEnv, loadConfig, port, z } from '@gpuaas/config';
import { defaultOpenApiPath } from './contract/load-contract.js';

export const restAdapterEnv = z.object({
  ...commonEnv,
  PORT: port(4000),
  GATEWAY_URL: z.string().url().default('http://127.0.0.1:4001/graphql'),
  /** The bundled contract; defaults to doc/api/openapi.yaml in this repository. */
  OPENAPI_PATH: z.string().min(1).default(defaultOpenApiPath),
  /** Largest accepted request body, in body-parser's notation (`100kb`, `1mb`). */
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 512kb or 1mb').default('1mb'),
});

export interface RestAdapterConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  gatewayUrl: string;
  openapiPath: string;
  bodyLimit: string;
  logLevel: z.infer<typeof commonEnv.LOG_LEVEL>;
  nodeEnv: z.infer<typeof commonEnv.NODE_ENV>;
}

/** Parses an environment (main.ts passes process.env); throws a ConfigError listing every problem. */
export function loadRestAdapterConfig(env: Readonly<Record<string, string | undefined>>): RestAdapterConfig {
  const parsed = loadConfig(restAdapterEnv, env);
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    gatewayUrl: parsed.GATEWAY_URL,
    openapiPath: parsed.OPENAPI_PATH,
    bodyLimit: parsed.BODY_LIMIT,
    logLevel: parsed.LOG_LEVEL,
    nodeEnv: parsed.NODE_ENV,
  };
}

/** Every default with some overrides, for tests and the dev launcher: `restAdapterTestConfig({ port: 0 })`. */
export function defaultRestAdapterConfig(overrides: Partial<RestAdapterConfig> = {}): RestAdapterConfig {
  return { ...loadRestAdapterConfig({}), ...overrides };
}

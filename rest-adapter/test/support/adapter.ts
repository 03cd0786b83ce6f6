import { loadGatewayConfig, type GatewayConfig } from '@gpuaas/gateway';
import { createTestRedis } from '@gpuaas/testkit';
import { createLogger } from '@gpuaas/telemetry';
import { defaultRestAdapterConfig, type RestAdapterConfig } from '../../src/config.js';
import type { OperationRegistry } from '../../src/operations/registry.js';
import { createRestAdapter, type RestAdapter } from '../../src/server.js';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

export interface TestAdapter {
  readonly adapter: RestAdapter;
  send(method: string, url: string, init?: { headers?: Record<string, string>; body?: string | Uint8Array }): Promise<Answer>;
  close(): Promise<void>;
}

/** Nothing listens on port 9 (discard) here. */
const DEAD_END = 'http://127.0.0.1:9';

/** Gateway settings for an embedded engine whose subgraphs and JWKS are all at a port nothing listens on. */
export function deadEndGatewayConfig(redisKeyPrefix: string): GatewayConfig {
  const graphql = `${DEAD_END}/graphql`;
  return loadGatewayConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    REDIS_KEY_PREFIX: redisKeyPrefix,
    ACCESS_URL: graphql,
    COMPUTE_URL: graphql,
    BILLING_URL: graphql,
    WORKLOADS_URL: graphql,
    PLATFORM_URL: graphql,
  });
}

/**
 * An adapter on a free port with a silent logger and its own Redis key prefix (removed on close). By default it
 * runs the gateway's engine embedded, as production does, with every subgraph at a port nothing listens on, so a
 * handler reaching the gateway answers 503. With a `gatewayUrl` (a stub gateway) it runs in remote mode.
 */
export async function startTestAdapter(options: { registry?: OperationRegistry; config?: Partial<RestAdapterConfig> } = {}): Promise<TestAdapter> {
  const redis = await createTestRedis();
  let adapter: RestAdapter;
  try {
    adapter = await createRestAdapter(
      defaultRestAdapterConfig({
        port: 0,
        logLevel: 'silent',
        redisKeyPrefix: redis.keyPrefix,
        ...(options.config?.gatewayUrl === undefined ? { gatewayMode: 'embedded' as const, gateway: deadEndGatewayConfig(redis.keyPrefix) } : {}),
        ...options.config,
      }),
      { logger: createLogger('rest-adapter-test', 'silent'), ...(options.registry ? { registry: options.registry } : {}) },
    );
  } catch (error) {
    await redis.cleanup();
    throw error;
  }
  return {
    adapter,
    async send(method, url, init = {}) {
      const response = await fetch(adapter.url + url, { method, redirect: 'manual', headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, text, json };
    },
    async close() {
      await adapter.close();
      await redis.cleanup();
    },
  };
}

export function fieldsOf(answer: Answer): Array<{ field: string; message: string }> {
  return ((answer.json as { details?: { fields?: Array<{ field: string; message: string }> } }).details?.fields ?? []);
}

import { describe, expect, it } from 'vitest';
import type { ConfigError } from '@gpuaas/config';
import { loadContract } from '../src/contract/load-contract.js';
import { buildOpenApiBackend, precompileRequestValidators } from '../src/contract/openapi-backend.js';
import { defaultRestAdapterConfig, loadRestAdapterConfig } from '../src/config.js';

describe('start-up', () => {
  it('routes the 3.1 contract (quick mode) and compiles a request validator for every operation before serving', async () => {
    const contract = loadContract();
    const api = await buildOpenApiBackend(contract.document);

    expect(api.router.getOperations().map((o) => o.operationId)).toEqual(contract.operations.map((o) => o.operationId));
    expect(Object.keys(api.validator.requestValidators)).toHaveLength(0);
    expect(precompileRequestValidators(api)).toBe(contract.operations.length);
    for (const operation of contract.operations) {
      expect(api.validator.requestValidators[operation.operationId], operation.operationId).toEqual(expect.arrayContaining([expect.any(Function)]));
    }
  });

  it('does not change the contract document it was given', async () => {
    const contract = loadContract();
    const before = JSON.stringify(contract.document);
    await buildOpenApiBackend(contract.document);

    expect(JSON.stringify(contract.document)).toBe(before);
  });
});

describe('configuration', () => {
  it('has defaults for every variable', () => {
    expect(defaultRestAdapterConfig()).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      gatewayMode: 'embedded',
      gatewayUrl: 'http://127.0.0.1:4001/graphql',
      bodyLimit: '1mb',
      logLevel: 'info',
      nodeEnv: 'development',
    });
    expect(defaultRestAdapterConfig().openapiPath).toMatch(/doc\/api\/openapi\.yaml$/);
  });

  it('reads the environment', () => {
    expect(loadRestAdapterConfig({ PORT: '0', BODY_LIMIT: '256kb', GATEWAY_URL: 'http://127.0.0.1:9/graphql', OPENAPI_PATH: '/tmp/x.yaml' })).toMatchObject({
      port: 0,
      bodyLimit: '256kb',
      gatewayUrl: 'http://127.0.0.1:9/graphql',
      openapiPath: '/tmp/x.yaml',
    });
  });

  it('reads Redis, the gateway timeout and the idempotency retention policy', () => {
    expect(defaultRestAdapterConfig()).toMatchObject({ redisUrl: 'redis://127.0.0.1:6379', redisKeyPrefix: 'gpuaas:', gatewayTimeoutMs: 30_000, idempotencyRetentionSeconds: 24 * 3600 });
    expect(
      loadRestAdapterConfig({ REDIS_URL: 'redis://10.0.0.2:6380', REDIS_KEY_PREFIX: 'staging:', GATEWAY_TIMEOUT_MS: '5000', POLICY_IDEMPOTENCY_RETENTION_HOURS: '48' }),
    ).toMatchObject({ redisUrl: 'redis://10.0.0.2:6380', redisKeyPrefix: 'staging:', gatewayTimeoutMs: 5000, idempotencyRetentionSeconds: 48 * 3600 });
  });

  it('reports every bad variable at once', () => {
    let problems: readonly string[] = [];
    try {
      loadRestAdapterConfig({ PORT: 'many', BODY_LIMIT: 'huge', GATEWAY_URL: 'not a url' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }

    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['BODY_LIMIT', 'GATEWAY_URL', 'PORT']);
  });
});

describe('gateway mode', () => {
  it('embeds the gateway by default, configured by the gateway loader from the same environment', () => {
    const config = loadRestAdapterConfig({
      PORT: '4000',
      REDIS_KEY_PREFIX: 'staging:',
      ACCESS_URL: 'http://access.internal:4101/graphql',
      GRAPHQL_MAX_DEPTH: '8',
      GATEWAY_IDENTITY_SECRET: 'a-shared-identity-secret-of-at-least-32-bytes',
    });

    expect(config.gatewayMode).toBe('embedded');
    expect(config.gateway).toMatchObject({
      subgraphUrls: { access: 'http://access.internal:4101/graphql', compute: 'http://127.0.0.1:4102/graphql' },
      accessJwksUrl: 'http://access.internal:4101/.well-known/jwks.json',
      redisKeyPrefix: 'staging:',
      maxQueryDepth: 8,
      identitySecret: 'a-shared-identity-secret-of-at-least-32-bytes',
    });
  });

  it('calls the gateway over HTTP when only GATEWAY_URL is given, or when GATEWAY_MODE says remote', () => {
    expect(loadRestAdapterConfig({ GATEWAY_URL: 'http://gateway.internal:4001/graphql' })).toMatchObject({ gatewayMode: 'remote', gatewayUrl: 'http://gateway.internal:4001/graphql', gateway: undefined });
    expect(loadRestAdapterConfig({ GATEWAY_MODE: 'remote' })).toMatchObject({ gatewayMode: 'remote', gatewayUrl: 'http://127.0.0.1:4001/graphql' });
    expect(loadRestAdapterConfig({ GATEWAY_MODE: 'embedded', GATEWAY_URL: 'http://gateway.internal:4001/graphql' }).gatewayMode).toBe('embedded');
    expect(defaultRestAdapterConfig({ gatewayUrl: 'http://127.0.0.1:9/graphql' }).gatewayMode).toBe('remote');
  });

  it('reports the embedded gateway\'s problems together with its own, once each', () => {
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadRestAdapterConfig(env);
      } catch (error) {
        return (error as ConfigError).problems.map((problem) => problem.split(':')[0]!).sort();
      }
      return [];
    };

    expect(problemsOf({ BODY_LIMIT: 'huge', GRAPHQL_MAX_DEPTH: '0', LOG_LEVEL: 'loud' })).toEqual(['BODY_LIMIT', 'GRAPHQL_MAX_DEPTH', 'LOG_LEVEL']);
    expect(problemsOf({ NODE_ENV: 'production', BODY_LIMIT: 'huge' })).toEqual(['BODY_LIMIT', 'GATEWAY_IDENTITY_SECRET']);
    expect(problemsOf({ NODE_ENV: 'production', GATEWAY_URL: 'http://gateway.internal:4001/graphql' })).toEqual([]);
  });

  it('refuses an unknown GATEWAY_MODE', () => {
    expect(() => loadRestAdapterConfig({ GATEWAY_MODE: 'sideways' })).toThrow(/GATEWAY_MODE/);
  });
});

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

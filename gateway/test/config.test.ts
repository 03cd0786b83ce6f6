import { describe, expect, it } from 'vitest';
import { ConfigError } from '@gpuaas/config';
import { DEV_GATEWAY_IDENTITY_SECRET } from '@gpuaas/service-kit';
import { loadGatewayConfig } from '../src/index.js';

describe('gateway config', () => {
  it('derives the JWKS URL from the access subgraph and defaults everything else for development', () => {
    const config = loadGatewayConfig({ ACCESS_URL: 'http://10.0.0.5:4101/graphql' });
    expect(config).toMatchObject({
      accessJwksUrl: 'http://10.0.0.5:4101/.well-known/jwks.json',
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: 'gpuaas:',
      trustedProxies: [],
      identitySecret: DEV_GATEWAY_IDENTITY_SECRET,
      maxQueryDepth: 12,
      maxQueryCost: 250_000,
      introspection: true,
    });
  });

  it('reads the trusted proxies as a comma-separated list', () => {
    expect(loadGatewayConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7 ,' }).trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.7']);
  });

  it('reports every bad variable at once, and demands a real identity secret in production', () => {
    try {
      loadGatewayConfig({ NODE_ENV: 'production', TRUSTED_PROXIES: 'proxy.internal', GRAPHQL_MAX_COST: '0', ACCESS_JWKS_URL: 'not a url' });
      expect.unreachable('loadGatewayConfig should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const fields = (error as ConfigError).problems.map((problem) => problem.split(':')[0]);
      expect(fields.sort()).toEqual(['ACCESS_JWKS_URL', 'GATEWAY_IDENTITY_SECRET', 'GRAPHQL_MAX_COST', 'TRUSTED_PROXIES']);
    }
    const production = loadGatewayConfig({ NODE_ENV: 'production', GATEWAY_IDENTITY_SECRET: 'a-production-identity-secret-0123456789' });
    expect(production).toMatchObject({ identitySecret: 'a-production-identity-secret-0123456789', introspection: false });
  });
});

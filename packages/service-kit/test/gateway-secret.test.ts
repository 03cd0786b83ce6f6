import { loadConfig, z, ConfigError } from '@gpuaas/config';
import { describe, expect, it } from 'vitest';
import {
  DEV_GATEWAY_SHARED_SECRET,
  gatewaySecretMatches,
  refineGatewaySecret,
  subgraphEnv,
  subgraphSettings,
} from '../src/index.js';

describe('gatewaySecretMatches', () => {
  it('accepts only the exact secret', () => {
    const secret = 'a-shared-secret-of-some-length';
    expect(gatewaySecretMatches(secret, secret)).toBe(true);
    expect(gatewaySecretMatches(secret, `${secret}x`)).toBe(false);
    expect(gatewaySecretMatches(secret, secret.slice(0, -1))).toBe(false);
    expect(gatewaySecretMatches(secret, '')).toBe(false);
    expect(gatewaySecretMatches(secret, undefined)).toBe(false);
    expect(gatewaySecretMatches(secret, [secret, secret])).toBe(false);
  });
});

describe('subgraph config', () => {
  const schema = z.object({ ...subgraphEnv(4105) }).superRefine(refineGatewaySecret);

  it('falls back to the dev secret and the default port outside production', () => {
    const settings = subgraphSettings(loadConfig(schema, {}));
    expect(settings).toMatchObject({ port: 4105, nodeEnv: 'development', gatewaySecret: DEV_GATEWAY_SHARED_SECRET, introspection: true });
  });

  it('requires a real secret in production and turns introspection off', () => {
    expect(() => loadConfig(schema, { NODE_ENV: 'production' })).toThrow(/GATEWAY_SHARED_SECRET: required when NODE_ENV=production/);
    expect(() => loadConfig(schema, { NODE_ENV: 'production', GATEWAY_SHARED_SECRET: DEV_GATEWAY_SHARED_SECRET })).toThrow(ConfigError);
    const settings = subgraphSettings(loadConfig(schema, { NODE_ENV: 'production', GATEWAY_SHARED_SECRET: 'prod-secret-0123456789' }));
    expect(settings).toMatchObject({ gatewaySecret: 'prod-secret-0123456789', introspection: false });
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig(schema, { PORT: 'eighty', GATEWAY_SHARED_SECRET: 'short', DATABASE_URL: 'not a url' });
      expect.unreachable('loadConfig should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const fields = (error as ConfigError).problems.map((problem) => problem.split(':')[0]);
      expect(fields.sort()).toEqual(['DATABASE_URL', 'GATEWAY_SHARED_SECRET', 'PORT']);
    }
  });
});

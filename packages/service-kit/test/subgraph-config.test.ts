import { loadConfig, z, ConfigError } from '@gpuaas/config';
import { describe, expect, it } from 'vitest';
import { DEV_GATEWAY_IDENTITY_SECRET, refineGatewaySecret, subgraphEnv, subgraphSettings } from '../src/index.js';

describe('subgraph config', () => {
  const schema = z.object({ ...subgraphEnv(4105) }).superRefine(refineGatewaySecret);
  const productionSecret = 'a-production-identity-secret-0123456789';

  it('falls back to the dev identity secret and the default port outside production', () => {
    const settings = subgraphSettings(loadConfig(schema, {}));
    expect(settings).toMatchObject({ port: 4105, nodeEnv: 'development', identitySecret: DEV_GATEWAY_IDENTITY_SECRET, introspection: true });
    expect(Buffer.byteLength(DEV_GATEWAY_IDENTITY_SECRET)).toBeGreaterThanOrEqual(32);
  });

  it('requires a real identity secret in production and turns introspection off', () => {
    expect(() => loadConfig(schema, { NODE_ENV: 'production' })).toThrow(/GATEWAY_IDENTITY_SECRET: required when NODE_ENV=production/);
    expect(() => loadConfig(schema, { NODE_ENV: 'production', GATEWAY_IDENTITY_SECRET: DEV_GATEWAY_IDENTITY_SECRET })).toThrow(
      /development default may not be used in production/,
    );
    const settings = subgraphSettings(loadConfig(schema, { NODE_ENV: 'production', GATEWAY_IDENTITY_SECRET: productionSecret }));
    expect(settings).toMatchObject({ identitySecret: productionSecret, introspection: false });
  });

  it('counts the secret in bytes, not characters', () => {
    // 16 two-byte characters are 32 bytes: long enough for HS256, although only 16 characters.
    expect(subgraphSettings(loadConfig(schema, { GATEWAY_IDENTITY_SECRET: 'é'.repeat(16) })).identitySecret).toBe('é'.repeat(16));
    expect(() => loadConfig(schema, { GATEWAY_IDENTITY_SECRET: 'x'.repeat(31) })).toThrow(/GATEWAY_IDENTITY_SECRET: must be at least 32 bytes/);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig(schema, { PORT: 'eighty', GATEWAY_IDENTITY_SECRET: 'short', DATABASE_URL: 'not a url' });
      expect.unreachable('loadConfig should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const fields = (error as ConfigError).problems.map((problem) => problem.split(':')[0]);
      expect(fields.sort()).toEqual(['DATABASE_URL', 'GATEWAY_IDENTITY_SECRET', 'PORT']);
    }
  });
});

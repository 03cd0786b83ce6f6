import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { anonymousIdentity, signIdentity } from '@gpuaas/auth';
import { createPlatformSubgraph, type PlatformConfig } from '../src/index.js';

const serverUrl = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const secret = 'platform-test-identity-secret-0123456789abc';

function config(databaseUrl: string): PlatformConfig {
  return { nodeEnv: 'test', logLevel: 'silent', host: '127.0.0.1', port: 0, databaseUrl, identitySecret: secret, introspection: true };
}

async function query(url: string, body: string, headers: Record<string, string>) {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('platform subgraph', () => {
  it('serves platformInfo to the gateway and answers the federation service query', async () => {
    const subgraph = await createPlatformSubgraph(config(serverUrl));
    try {
      const identity = { 'x-gateway-identity': await signIdentity(anonymousIdentity('corr-platform-test'), { secret }) };
      const info = await query(subgraph.url, JSON.stringify({ query: '{ platformInfo { name } }' }), identity);
      expect(info).toEqual({ status: 200, body: { data: { platformInfo: { name: 'GPUaaS' } } } });
      const sdl = await query(subgraph.url, JSON.stringify({ query: '{ _service { sdl } }' }), identity);
      expect(JSON.stringify(sdl.body)).toContain('type PlatformInfo');
    } finally {
      await subgraph.close();
    }
  });

  it('is alive but not ready while its database is unreachable', async () => {
    const unreachable = `postgres://postgres@127.0.0.1:${await closedPort()}/gpuaas`;
    const subgraph = await createPlatformSubgraph(config(unreachable));
    try {
      expect((await fetch(`${subgraph.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${subgraph.url}/readyz`);
      const body = (await ready.json()) as { checks: Record<string, { status: string }> };
      expect(ready.status).toBe(503);
      expect(body.checks['database']?.status).toBe('failing');
    } finally {
      await subgraph.close();
    }
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpService } from '@gpuaas/service-kit';
import { createGateway, DEFAULT_MAX_QUERY_COST, type SubgraphName } from '../src/index.js';
import { anonymousIdentity, signIdentity } from '@gpuaas/auth';
import { gatewayConfig, graphqlUrls, postGraphQL, startStack, testIdentitySecret, type Stack } from './support/stack.js';

let stack: Stack;
let graphqlUrl: string;

beforeAll(async () => {
  stack = await startStack();
  graphqlUrl = `${stack.gateway.url}/graphql`;
});

afterAll(async () => {
  await stack?.close();
});

/** A query `depth` fields deep that is otherwise valid: catalogGpuModels → edges → node → profiles → gpuModel → profiles … */
function nestedQuery(depth: number): string {
  const fields = ['catalogGpuModels', 'edges', 'node'];
  while (fields.length < depth - 1) fields.push(fields.length % 2 === 1 ? 'profiles' : 'gpuModel');
  return `{ ${fields.join(' { ')} { id }${' }'.repeat(fields.length - 1)} }`;
}

function expectNoStack(text: string): void {
  expect(text).not.toMatch(/stacktrace|"stack"|\n\s+at |\.ts:\d+/);
}

describe('gateway over the five subgraphs', () => {
  it('answers /healthz and /readyz on the gateway and every subgraph', async () => {
    const services: HttpService[] = [stack.gateway, ...Object.values(stack.subgraphs)];
    for (const service of services) {
      const health = await fetch(`${service.url}/healthz`);
      expect(health.status, `${service.name} /healthz`).toBe(200);
      const ready = await fetch(`${service.url}/readyz`);
      const body = (await ready.json()) as { status: string; checks: Record<string, { status: string }> };
      expect(ready.status, `${service.name} /readyz ${JSON.stringify(body)}`).toBe(200);
      expect(body.status).toBe('ready');
    }
  });

  it('reports each subgraph, Redis and the database among the readiness checks', async () => {
    const gatewayReady = (await (await fetch(`${stack.gateway.url}/readyz`)).json()) as { checks: Record<string, { status: string }> };
    expect(Object.keys(gatewayReady.checks).sort()).toEqual(['access', 'billing', 'compute', 'platform', 'redis', 'workloads']);
    const computeReady = (await (await fetch(`${stack.subgraphs.compute.url}/readyz`)).json()) as { checks: Record<string, { status: string }> };
    expect(computeReady.checks['database']).toEqual({ status: 'ok' });
  });

  it('resolves a real field through the gateway', async () => {
    const before = Date.now();
    const response = await postGraphQL(graphqlUrl, '{ platformInfo { name version } serverTime }');
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const data = response.body.data as { platformInfo: { name: string; version: string }; serverTime: string };
    expect(data.platformInfo.name).toBe('GPUaaS');
    expect(data.platformInfo.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(data.serverTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(data.serverTime)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(data.serverTime)).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('returns not_implemented with the caller correlation id and no stack for a stubbed field', async () => {
    const response = await postGraphQL(graphqlUrl, '{ appTemplate(id: "t1") { id } }', { 'x-correlation-id': 'corr-gateway-test-1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('corr-gateway-test-1');
    expect(response.body.data).toEqual({ appTemplate: null });
    expect(response.body.errors).toHaveLength(1);
    const [error] = response.body.errors!;
    expect(error!.path).toEqual(['appTemplate']);
    expect(error!.extensions).toMatchObject({ code: 'not_implemented', correlation_id: 'corr-gateway-test-1' });
    expect(Object.keys(error!.extensions!).sort()).toEqual(['code', 'correlation_id', 'details']);
    expectNoStack(response.text);
  });

  it('keeps data from one subgraph when another fails in the same query', async () => {
    const response = await postGraphQL(graphqlUrl, '{ platformInfo { name } appTemplate(id: "t1") { id } }');
    expect(response.body.data).toEqual({ platformInfo: { name: 'GPUaaS' }, appTemplate: null });
    expect(response.body.errors?.map((e) => [e.path, e.extensions?.['code']])).toEqual([[['appTemplate'], 'not_implemented']]);
  });

  it('makes up a correlation id when the caller sends none', async () => {
    const response = await postGraphQL(graphqlUrl, '{ me { id } }');
    const correlationId = response.body.errors?.[0]?.extensions?.['correlation_id'];
    expect(typeof correlationId).toBe('string');
    expect(response.headers.get('x-correlation-id')).toBe(correlationId);
  });

  it('refuses a subgraph request that did not come through the gateway', async () => {
    const forged = await signIdentity(anonymousIdentity('corr-forged'), { secret: 'not-the-gateway-identity-secret-at-all-0123' });
    const expired = await signIdentity(anonymousIdentity('corr-expired'), { secret: testIdentitySecret, now: new Date(Date.now() - 300_000) });
    for (const service of Object.values(stack.subgraphs)) {
      const direct = `${service.url}/graphql`;
      const untrusted: Record<string, string>[] = [{}, { 'x-gateway-identity': forged }, { 'x-gateway-identity': expired }];
      for (const headers of untrusted) {
        const response = await postGraphQL(direct, '{ _service { sdl } }', headers);
        expect(response.status, `${service.name} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.body.data).toBeUndefined();
        expect(response.body.errors?.[0]?.extensions?.['code']).toBe('unauthenticated');
      }
    }
    const signed = await signIdentity(anonymousIdentity('corr-signed'), { secret: testIdentitySecret });
    const trusted = await postGraphQL(`${stack.subgraphs.platform.url}/graphql`, '{ platformInfo { name } }', { 'x-gateway-identity': signed });
    expect(trusted.body).toEqual({ data: { platformInfo: { name: 'GPUaaS' } } });
  });

  it('rejects an operation nested deeper than 12 levels with query_too_complex', async () => {
    const response = await postGraphQL(graphqlUrl, nestedQuery(13), { 'x-correlation-id': 'corr-too-deep' });
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors?.[0]?.extensions).toMatchObject({
      code: 'query_too_complex',
      correlation_id: 'corr-too-deep',
      details: { max_depth: 12, depth: 13 },
    });
    expectNoStack(response.text);
  });

  it('runs an operation exactly 12 levels deep when its cost is allowed', async () => {
    // This path crosses a connection and four unbounded lists, far over the default cost limit; raise it for this test.
    const gateway = await createGateway(gatewayConfig(graphqlUrls(stack.subgraphs), stack.redis.keyPrefix, { maxQueryCost: 1e12 }));
    try {
      const response = await postGraphQL(`${gateway.url}/graphql`, nestedQuery(12));
      // It got past validation and the cost check and reached the compute subgraph (which wants a signed-in caller).
      expect(response.status, response.text).toBe(200);
      expect(response.body.errors?.[0]?.path).toEqual(['catalogGpuModels']);
      expect(response.body.errors?.[0]?.extensions?.['code']).toBe('unauthenticated');
    } finally {
      await gateway.close();
    }
  });

  it('refuses an operation over the default cost limit with query_too_complex before calling a subgraph', async () => {
    const response = await postGraphQL(graphqlUrl, nestedQuery(12), { 'x-correlation-id': 'corr-too-costly' });
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'query_too_complex', correlation_id: 'corr-too-costly', details: { max_cost: DEFAULT_MAX_QUERY_COST } });
    expect((response.body.errors?.[0]?.extensions?.['details'] as { cost: number }).cost).toBeGreaterThan(DEFAULT_MAX_QUERY_COST);
    expectNoStack(response.text);
  });

  it('maps GraphQL validation failures to validation_error', async () => {
    const response = await postGraphQL(graphqlUrl, '{ platformInfo { noSuchField } }');
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.['code']).toBe('validation_error');
  });
});

describe('a subgraph that is down', () => {
  it('makes the gateway not ready and its fields service_unavailable while other subgraphs still answer', async () => {
    const deadUrl = `http://127.0.0.1:${await closedPort()}/graphql`;
    const live: Record<SubgraphName, string> = graphqlUrls(stack.subgraphs);
    const gateway = await createGateway(gatewayConfig({ ...live, workloads: deadUrl }, stack.redis.keyPrefix));
    try {
      const ready = await fetch(`${gateway.url}/readyz`);
      const body = (await ready.json()) as { checks: Record<string, { status: string }> };
      expect(ready.status).toBe(503);
      expect(body.checks['workloads']?.status).toBe('failing');
      expect(body.checks['access']?.status).toBe('ok');

      const response = await postGraphQL(`${gateway.url}/graphql`, '{ appTemplate(id: "t1") { id } platformInfo { name } }');
      expect(response.body.data).toEqual({ appTemplate: null, platformInfo: { name: 'GPUaaS' } });
      expect(response.body.errors?.map((error) => error.extensions?.['code'])).toEqual(['service_unavailable']);
      expect(response.text).not.toContain(deadUrl.replace('/graphql', ''));
      expectNoStack(response.text);
    } finally {
      await gateway.close();
    }
  });
});

describe('shutdown', () => {
  it('leaves nothing open: a process that starts and closes the stack exits by itself', async () => {
    const script = fileURLToPath(new URL('./support/lifecycle.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(tsx, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the process did not exit after close(); stdout: ${stdout} stderr: ${stderr}`));
      }, 50_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('served 200 {"platformInfo":{"name":"GPUaaS"},"appTemplate":null}');
  }, 60_000);
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

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@gpuaas/telemetry';
import { createHttpService, KEEP_ALIVE_TIMEOUT_MS, type HttpService } from '../src/index.js';

let service: HttpService;

beforeAll(async () => {
  service = await createHttpService({ name: 'keep-alive', host: '127.0.0.1', port: 0, logger: createLogger('keep-alive', 'silent') });
});

afterAll(async () => {
  await service?.close();
});

describe('http service connections', () => {
  it('keeps idle connections open longer than a minute and tells clients so', async () => {
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
    expect(service.server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
    expect(service.server.headersTimeout).toBeGreaterThan(service.server.keepAliveTimeout);
    const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
      const outgoing = request(`${service.url}/healthz`, { headers: { connection: 'keep-alive' } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.headers['keep-alive'] as string | undefined));
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
    expect(keepAlive).toBe(`timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile, runFixedRate, summarize, type LoadTarget } from '../support/fixed-rate-load.js';

let server: http.Server;
let url: string;
let received = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    received++;
    res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const target = (path: string): LoadTarget => ({
  name: path,
  url: `${url}${path}`,
  method: 'GET',
  headers: {},
  check: (status, body) => status === 200 && body === '{"ok":true}',
});

describe('fixed-rate loader', () => {
  it('sends rate × duration requests, paced over the duration, and times each one', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const before = received;
    const sample = await runFixedRate(target('/ok'), 100, 500, agent);
    agent.destroy();
    expect(received - before).toBe(50);
    expect(sample).toMatchObject({ sent: 50, failed: 0, failures: [] });
    expect(sample.latenciesMs).toHaveLength(50);
    // The 50th request is due at 490 ms: the loader must not have fired them all at once.
    expect(sample.elapsedMs).toBeGreaterThanOrEqual(490);
  });

  it('counts answers that fail the check and keeps a few of them', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const sample = await runFixedRate(target('/fail'), 100, 100, agent);
    agent.destroy();
    expect(sample.failed).toBe(10);
    expect(sample.latenciesMs).toHaveLength(0);
    expect(sample.failures).toHaveLength(5);
    expect(sample.failures[0]).toBe('HTTP 500: {"ok":true}');
  });

  it('summarises slices into nearest-rank percentiles and a rate', () => {
    const slice = (latenciesMs: number[]) => ({ latenciesMs, sent: latenciesMs.length, failed: 0, failures: [], maxLagMs: 1, elapsedMs: 1000 });
    const summary = summarize([slice([1, 2, 3, 4, 5]), slice([6, 7, 8, 9, 10])]);
    expect(summary).toMatchObject({ requests: 10, reqPerSec: 5, p50: 5, p95: 10, p99: 10 });
    expect(percentile([], 0.5)).toBeNaN();
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
  });
});

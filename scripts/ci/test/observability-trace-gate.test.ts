import { afterEach, describe, expect, it } from 'vitest';
import { checkTracing } from '../observability_trace_gate.js';
import { createTempRepo, type TempRepo } from '../lib/temp-repo.js';

const tracedService = `
import express from 'express';
import { createHttpService } from '@gpuaas/service-kit';
import { startConsumer } from '@gpuaas/events';
export async function createWorkers(config: { port: number }) {
  const http = await createHttpService({ name: 'workers', host: '127.0.0.1', port: config.port, logger: console as never,
    configure: (app) => { app.use(express.json()); } });
  const consumer = await startConsumer({ durable: 'billing-worker' } as never);
  const response = await fetch('http://127.0.0.1:1/healthz');
  return { http, consumer, response };
}
`;

let repo: TempRepo | undefined;
afterEach(() => repo?.remove());

async function gateWith(files: Record<string, string>) {
  repo = createTempRepo({ 'workers/src/index.ts': tracedService, ...files });
  return checkTracing({ root: repo.root });
}

describe('observability_trace_gate', () => {
  it('passes services built on service-kit and consumers built on startConsumer', async () => {
    expect((await gateWith({})).problems).toEqual([]);
  });

  it.each([
    ['an express() app', 'rest-adapter/src/app.ts', "import express from 'express';\nconst app = express();\n", /rest-adapter\/src\/app\.ts:2: express\(\)/],
    ['a raw http server', 'agent/src/health.ts', "import http from 'node:http';\nexport const s = http.createServer(() => {});\n", /agent\/src\/health\.ts:2: raw http server/],
    ['a createServer imported from node:http', 'agent/src/health.ts', "import { createServer } from 'node:http';\nexport const s = createServer();\n", /agent\/src\/health\.ts:2: raw http server/],
    ['a listen call', 'subgraphs/compute/src/server.ts', 'declare const app: { listen(port: number): void };\napp.listen(4102);\n', /subgraphs\/compute\/src\/server\.ts:2: \.listen\(\)/],
    ['an ApolloServer outside the gateway server', 'subgraphs/billing/src/server.ts', 'const server = new ApolloServer({ schema });\n', /subgraphs\/billing\/src\/server\.ts:1: new ApolloServer\(\)/],
    ['a JetStream consumer lookup', 'workers/src/billing/run.ts', "const c = await js.consumers.get('BILLING', 'billing-worker');\n", /workers\/src\/billing\/run\.ts:1: consumers\.get\(\)/],
    ['a consume loop', 'workers/src/billing/run.ts', 'for await (const m of await consumer.consume()) m.ack();\n', /workers\/src\/billing\/run\.ts:1: \.consume\(\)/],
    ['a fetch from a consumer', 'workers/src/billing/run.ts', 'const batch = await consumer.fetch({ max_messages: 10 });\n', /workers\/src\/billing\/run\.ts:1: \.fetch\(\)/],
  ])('flags %s', async (_name, path, source, expected) => {
    const result = await gateWith({ [path]: source });
    expect(result.problems).toEqual([expect.stringMatching(expected)]);
  });

  it('lets the gateway server construct its ApolloServer', async () => {
    const result = await gateWith({ 'gateway/src/server.ts': 'const apollo = new ApolloServer({ gateway });\n' });
    expect(result.problems).toEqual([]);
  });

  it('accepts a line that says why it bypasses the libraries', async () => {
    const result = await gateWith({
      'workers/src/dlq/replay.ts': '// ci-allow observability_trace_gate: one-off admin replay, wrapped in withSpan below\nconst batch = await consumer.fetch({ max_messages: 1 });\n',
    });
    expect(result.problems).toEqual([]);
  });
});

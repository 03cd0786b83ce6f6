import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { AppError } from '@gpuaas/errors';
import { anonymousIdentity, signIdentity, type GatewayIdentity } from '@gpuaas/auth';
import { createLogger } from '@gpuaas/telemetry';
import { createSubgraphService, type HttpService, type SubgraphContext } from '../src/index.js';

const secret = 'service-kit-subscription-test-secret-0123456789';
const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { ok: Boolean! }
  type Tick { n: Int! caller: String }
  type Subscription {
    ticks(count: Int!): Tick!
    forbidden: Tick!
  }
`);

let subgraph: HttpService;
const clients: Client[] = [];

/** Yields `count` ticks, each naming the caller the subgraph saw; the iterator ends itself. */
async function* ticks(count: number, identity: GatewayIdentity): AsyncGenerator<{ ticks: { n: number; caller: string | null } }> {
  for (let n = 1; n <= count; n++) yield { ticks: { n, caller: identity.userId } };
}

beforeAll(async () => {
  subgraph = await createSubgraphService<SubgraphContext>({
    name: 'subscription-kit-test',
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('subscription-kit-test', 'silent'),
    typeDefs,
    identitySecret: secret,
    resolvers: {
      Query: { ok: () => true },
      Subscription: {
        ticks: { subscribe: (_: unknown, args: { count: number }, ctx: SubgraphContext) => ticks(args.count, ctx.identity) },
        forbidden: {
          subscribe: () => {
            throw new AppError('forbidden', 'Not yours');
          },
        },
      },
    },
  });
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await subgraph?.close();
});

function client(connectionParams: Record<string, unknown>): Client {
  const created = createClient({ url: `${subgraph.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  clients.push(created);
  return created;
}

function collect(c: Client, query: string): Promise<{ results: ExecutionResult[]; error?: unknown }> {
  return new Promise((resolve) => {
    const results: ExecutionResult[] = [];
    c.subscribe({ query }, { next: (r) => results.push(r as ExecutionResult), error: (error) => resolve({ results, error }), complete: () => resolve({ results }) });
  });
}

describe('subgraph subscriptions over graphql-ws', () => {
  it('serves a subscription to a connection carrying the gateway identity, with that identity as context', async () => {
    const identity: GatewayIdentity = { userId: '0193a0b0-0000-7000-8000-0000000000aa', role: 'user', sessionId: 's1', tokenVersion: 0, correlationId: 'corr-ws-1' };
    const assertion = await signIdentity(identity, { secret });
    const { results, error } = await collect(client({ 'X-Gateway-Identity': assertion }), 'subscription { ticks(count: 3) { n caller } }');
    expect(error).toBeUndefined();
    expect(results.map((r) => r.data)).toEqual([1, 2, 3].map((n) => ({ ticks: { n, caller: identity.userId } })));
  });

  it('refuses a connection without an identity, or with a forged or expired one', async () => {
    const forged = await signIdentity(anonymousIdentity('corr-forged'), { secret: 'another-secret-that-is-long-enough-0123456789' });
    const expired = await signIdentity(anonymousIdentity('corr-expired'), { secret, now: new Date(Date.now() - 300_000) });
    for (const params of [{}, { 'X-Gateway-Identity': forged }, { 'X-Gateway-Identity': expired }]) {
      const { results, error } = await collect(client(params), 'subscription { ticks(count: 1) { n } }');
      expect(results).toEqual([]);
      expect((error as { code?: number }).code, JSON.stringify(params)).toBe(4403);
    }
  });

  it('answers a refused subscription with the catalog code', async () => {
    const assertion = await signIdentity(anonymousIdentity('corr-ws-refused'), { secret });
    const { results } = await collect(client({ 'x-gateway-identity': assertion }), 'subscription { forbidden { n } }');
    expect(results).toHaveLength(1);
    expect(results[0]!.errors?.[0]).toMatchObject({ message: 'Not yours', extensions: { code: 'forbidden', correlation_id: 'corr-ws-refused' } });
  });

  it('closes open subscription sockets when the service closes', async () => {
    const extra = await createSubgraphService<SubgraphContext>({
      name: 'subscription-kit-close',
      host: '127.0.0.1',
      port: 0,
      logger: createLogger('subscription-kit-close', 'silent'),
      typeDefs,
      identitySecret: secret,
      resolvers: {
        Query: { ok: () => true },
        Subscription: {
          ticks: { subscribe: () => new Promise<never>(() => undefined) as never },
          forbidden: { subscribe: () => ticks(0, anonymousIdentity('x')) },
        },
      },
    });
    const socket = new WebSocket(`${extra.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await extra.close();
    expect(await closed).toBe(1001);
  });
});

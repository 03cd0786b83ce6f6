import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AppError } from '@gpuaas/errors';
import { createAccessSubgraph, loadAccessConfig } from '@gpuaas/subgraph-access';
import { readSubgraphSdl, createSubgraphService, type HttpService, type SubgraphContext } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import { composeSupergraph, createGateway, type SubgraphName } from '../src/index.js';
import { gatewayConfig, postGraphQL, subgraphEnv, testIdentitySecret, testRedisUrl } from './support/stack.js';
import { eventually, subscribe, wsClient } from './support/ws-client.js';
import { fileURLToPath } from 'node:url';

// A test-only subgraph (named "compute" so the gateway has a URL for it) whose subscription carries an access entity:
// it proves the bridge, the identity on both upstream paths and entity resolution, independent of compute's schema.
const probeSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Project @key(fields: "id", resolvable: false) { id: ID! }
  type Probe { n: Int! caller: ID project: Project! }
  type Query { probeVersion: String! }
  type Subscription { probe(projectId: ID!): Probe! }
`;

interface Listener {
  readonly projectId: string;
  push(n: number): void;
}
const listeners = new Set<Listener>();

/** The subgraph side: emits n=0 at once (the current state), then whatever the test pushes; frees itself on return(). */
function probeStream(projectId: string, context: SubgraphContext): AsyncIterableIterator<{ probe: unknown }> {
  const queue: number[] = [0];
  let wake: (() => void) | undefined;
  const listener: Listener = {
    projectId,
    push: (n) => {
      queue.push(n);
      wake?.();
    },
  };
  listeners.add(listener);
  const payload = (n: number) => ({ probe: { n, caller: context.identity.userId, project: { id: projectId } } });
  return {
    async next() {
      while (queue.length === 0 && listeners.has(listener)) await new Promise<void>((resolve) => (wake = resolve));
      if (!listeners.has(listener)) return { done: true, value: undefined };
      return { done: false, value: payload(queue.shift()!) };
    },
    async return() {
      listeners.delete(listener);
      wake?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

let database: TestDatabase;
let redis: TestRedis;
let access: HttpService;
let probe: HttpService;
let gateway: HttpService;
const clients: Client[] = [];

const PROBE = 'subscription($p: ID!) { probe(projectId: $p) { n caller project { id name } } }';

async function register(email: string): Promise<{ token: string; projectId: string; userId: string }> {
  const response = await postGraphQL(
    `${gateway.url}/graphql`,
    'mutation($input: RegisterInput!) { register(input: $input) { user { id personalProjectId } tokens { accessToken } } }',
    {},
    { input: { email, password: 'a-long-enough-passphrase-42', displayName: 'Sub Scriber' } },
  );
  const registration = (response.body.data as { register: { user: { id: string; personalProjectId: string }; tokens: { accessToken: string } } }).register;
  return { token: registration.tokens.accessToken, projectId: registration.user.personalProjectId, userId: registration.user.id };
}

function client(params: Record<string, unknown> = {}, protocols?: string[]): Client {
  const created = wsClient(gateway.url, params, protocols);
  clients.push(created);
  return created;
}

beforeAll(async () => {
  database = await createTestDatabase();
  redis = await createTestRedis({ url: testRedisUrl });
  const env = subgraphEnv(database.url, redis);
  access = await createAccessSubgraph(loadAccessConfig(env));
  probe = await createSubgraphService<SubgraphContext>({
    name: 'probe',
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('probe', 'silent'),
    typeDefs: parse(probeSdl),
    identitySecret: testIdentitySecret,
    resolvers: {
      Query: { probeVersion: () => '1' },
      Subscription: {
        probe: {
          subscribe: (_: unknown, args: { projectId: string }, context: SubgraphContext) => {
            if (context.identity.userId === null) throw new AppError('unauthenticated', 'Sign in to subscribe');
            return probeStream(args.projectId, context);
          },
        },
      },
    },
  });
  const accessDir = fileURLToPath(new URL('../../subgraphs/access', import.meta.url));
  const supergraphSdl = composeSupergraph([
    { name: 'access', typeDefs: readSubgraphSdl(accessDir)! },
    { name: 'compute', typeDefs: probeSdl },
  ]);
  const unused = 'http://127.0.0.1:9/graphql';
  const urls: Record<SubgraphName, string> = { access: `${access.url}/graphql`, compute: `${probe.url}/graphql`, billing: unused, workloads: unused, platform: unused };
  gateway = await createGateway(gatewayConfig(urls, redis.keyPrefix), { supergraphSdl });
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.dispose();
});

afterAll(async () => {
  await gateway?.close();
  await probe?.close();
  await access?.close();
  await redis?.cleanup();
  await database?.drop();
});

describe('subscriptions through the gateway', () => {
  it('authenticates in connection_init, sends the current state, then each change, resolving another subgraph\'s fields', async () => {
    const alice = await register(`alice-${Date.now()}@example.test`);
    const sub = subscribe(client({ authorization: `Bearer ${alice.token}` }), PROBE, { p: alice.projectId });
    const first = await sub.nth(1);
    expect(first.errors).toBeUndefined();
    expect(first.data).toEqual({ probe: { n: 0, caller: alice.userId, project: { id: alice.projectId, name: expect.any(String) } } });
    const pushedAt = Date.now();
    for (const listener of listeners) if (listener.projectId === alice.projectId) listener.push(7);
    const second = await sub.nth(2, 1000);
    expect(Date.now() - pushedAt).toBeLessThan(1000);
    expect(second.data).toMatchObject({ probe: { n: 7, caller: alice.userId } });
  });

  it('accepts the token as a second Sec-WebSocket-Protocol value', async () => {
    const bob = await register(`bob-${Date.now()}@example.test`);
    const sub = subscribe(client({}, [bob.token]), PROBE, { p: bob.projectId });
    expect((await sub.nth(1)).data).toMatchObject({ probe: { n: 0, caller: bob.userId } });
  });

  it('resolves entity fields as the caller: another tenant\'s project answers not_found', async () => {
    const carol = await register(`carol-${Date.now()}@example.test`);
    const dave = await register(`dave-${Date.now()}@example.test`);
    const sub = subscribe(client({ authorization: `Bearer ${dave.token}` }), PROBE, { p: carol.projectId });
    const first = await sub.nth(1);
    expect(first.data).toBeNull();
    expect(first.errors?.[0]?.extensions?.['code']).toBe('not_found');
  });

  it('passes the subgraph\'s refusal of an anonymous caller on with its code', async () => {
    const sub = subscribe(client(), PROBE, { p: '0193a0b0-0000-7000-8000-000000000001' });
    const first = await sub.nth(1);
    expect(first.errors?.[0]?.extensions?.['code']).toBe('unauthenticated');
    await sub.ended();
  });

  it('closes the socket with 4401 for a token that does not verify', async () => {
    const sub = subscribe(client({ authorization: 'Bearer not.a.jwt' }), PROBE, { p: '0193a0b0-0000-7000-8000-000000000001' });
    await sub.ended();
    expect(sub.results).toEqual([]);
    expect(sub.failure?.code).toBe(4401);
    expect(sub.failure?.reason).toMatch(/^unauthenticated/);
  });

  it('refuses a websocket whose URL carries a token in the query string', async () => {
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/graphql?access_token=abc`, 'graphql-transport-ws');
    const status = await new Promise<number>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('error', () => resolve(-1));
    });
    expect(status).toBe(400);
  });

  it('frees the upstream subscription as soon as the client unsubscribes', async () => {
    const erin = await register(`erin-${Date.now()}@example.test`);
    const before = listeners.size;
    const sub = subscribe(client({ authorization: `Bearer ${erin.token}` }), PROBE, { p: erin.projectId });
    await sub.nth(1);
    expect(listeners.size).toBe(before + 1);
    sub.unsubscribe();
    await eventually(() => listeners.size === before, 2000, 'the upstream listener to go');
  });

  it('refuses queries over the websocket', async () => {
    const sub = subscribe(client(), '{ probeVersion }');
    await sub.ended();
    expect(JSON.stringify(sub.failure)).toMatch(/Only subscriptions/);
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_IDENTITY_HEADER, signIdentity } from '@gpuaas/auth';
import type { HttpService } from '@gpuaas/service-kit';
import { createTestDatabase, createTestRedis, testNamespace, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import { loadComputeConfig } from '../../src/config.js';
import { sha256Hex } from '../../src/nodes/tokens.js';
import { createComputeSubgraph } from '../../src/server.js';
import { terminalTokenHash } from '../../src/terminal/tokens.js';
import { seedTerminalWorld, type TerminalWorld } from './support/seed.js';

const SECRET = 'terminal-test-gateway-identity-secret-0123456789';
const MUTATION = `mutation ($id: ID!) { createAllocationTerminalToken(input: { id: $id }) { allocationId token protocol wsUrl expiresAt } }`;

let database: TestDatabase;
let redis: TestRedis;
let pool: pg.Pool;
let subgraph: HttpService;
let world: TerminalWorld;

beforeAll(async () => {
  database = await createTestDatabase();
  redis = await createTestRedis();
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  subgraph = await createComputeSubgraph(
    loadComputeConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      GATEWAY_IDENTITY_SECRET: SECRET,
      NATS_URL: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: testNamespace(),
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: redis.keyPrefix,
      TERMINAL_WS_BASE_URL: 'wss://console.example.com',
      POLICY_TERMINAL_TOKEN_TTL_SECONDS: '45',
    }),
  );
  world = await seedTerminalWorld(pool, sha256Hex);
});

afterAll(async () => {
  await subgraph?.close();
  await pool?.end();
  await redis?.cleanup();
  await database?.drop();
});

async function callAs(userId: string, id: string) {
  const identity = await signIdentity({ userId, role: 'user', sessionId: 's1', tokenVersion: 0, correlationId: 'terminal-graphql' }, { secret: SECRET });
  const response = await fetch(`${subgraph.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [GATEWAY_IDENTITY_HEADER]: identity },
    body: JSON.stringify({ query: MUTATION, variables: { id } }),
  });
  return (await response.json()) as { data?: { createAllocationTerminalToken: Record<string, string> } | null; errors?: Array<{ extensions?: { code?: string } }> };
}

describe('Mutation.createAllocationTerminalToken', () => {
  it('issues a token with the configured URL and lifetime', async () => {
    const owner = await world.newUser();
    const allocationId = await world.newAllocation(await world.newProject(owner), owner);
    const answer = await callAs(owner, allocationId);
    const issued = answer.data!.createAllocationTerminalToken;
    expect(issued).toMatchObject({ allocationId, protocol: 'gpuaas.terminal.v1', wsUrl: `wss://console.example.com/terminal/${allocationId}` });
    const lifetime = new Date(issued['expiresAt']!).getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(40_000);
    expect(lifetime).toBeLessThanOrEqual(45_000);
    const { rowCount } = await pool.query('SELECT 1 FROM compute.terminal_sessions WHERE token_hash = $1 AND user_id = $2', [terminalTokenHash(issued['token']!), owner]);
    expect(rowCount).toBe(1);
  });

  it("answers another user's allocation with not_found", async () => {
    const owner = await world.newUser();
    const allocationId = await world.newAllocation(await world.newProject(owner), owner);
    const answer = await callAs(await world.newUser(), allocationId);
    expect(answer.data ?? null).toBeNull();
    expect(answer.errors?.[0]?.extensions?.code).toBe('not_found');
  });
});

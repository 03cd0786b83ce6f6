import pg from 'pg';
import { resolvePolicies } from '@gpuaas/config';
import { connectNats } from '@gpuaas/events';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, createTestRedis, testNamespace, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import type { AuthenticatedIdentity } from '@gpuaas/auth';
import type { ComputeConfig } from '../../../src/config.js';
import type { ComputeDeps } from '../../../src/deps.js';

export interface TerminalTestDeps {
  readonly deps: ComputeDeps;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

/** Real Postgres (a fresh database), NATS (a private namespace) and Redis (a key prefix) for the terminal area. */
export async function startTerminalDeps(overrides: Partial<ComputeConfig> = {}): Promise<TerminalTestDeps> {
  const database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 8 });
  const nats = await connectNats(process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222', 'terminal-test');
  const redis: TestRedis = await createTestRedis();
  const config = {
    natsNamespace: testNamespace(),
    terminalWsBaseUrl: 'ws://127.0.0.1:4000',
    policies: resolvePolicies({}),
    ...overrides,
  } as ComputeConfig;
  const deps: ComputeDeps = { pool, nats, redis, logger: createLogger('terminal-test', 'silent'), config };
  return {
    deps,
    database,
    async close() {
      await nats.drain().catch(() => nats.close());
      await pool.end();
      await redis.cleanup();
      await database.drop();
    },
  };
}

export function identityOf(userId: string): AuthenticatedIdentity {
  return { userId, role: 'user', sessionId: 'test-session', tokenVersion: 0, correlationId: 'test' };
}

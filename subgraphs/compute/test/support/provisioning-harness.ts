import pg from 'pg';
import { connectNats, type EventEnvelope, type NatsConnection } from '@gpuaas/events';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, testNamespace, type TestDatabase } from '@gpuaas/testkit';
import type { ProvisioningDeps } from '../../src/allocations/provisioning.js';

export interface AllocationHarness {
  readonly db: TestDatabase;
  readonly pool: pg.Pool;
  readonly nats: NatsConnection;
  readonly deps: ProvisioningDeps & { config: { natsNamespace: string; policies: { max_live_allocations_per_user: number; min_runway_for_new_allocation_seconds: number } } };
  close(): Promise<void>;
}

/** A fresh database and a NATS connection (for node wake signals), with the deps the allocation services take. */
export async function startAllocationHarness(options: { liveLimit?: number; poolSize?: number } = {}): Promise<AllocationHarness> {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: options.poolSize ?? 10 });
  const nats = await connectNats(process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222', 'compute-allocations-test');
  const deps = {
    pool,
    nats,
    logger: createLogger('compute-allocations-test', 'silent'),
    config: { natsNamespace: testNamespace(), policies: { max_live_allocations_per_user: options.liveLimit ?? 8, min_runway_for_new_allocation_seconds: 0 } },
  };
  return {
    db,
    pool,
    nats,
    deps,
    async close() {
      await nats.close();
      await pool.end();
      await db.drop();
    },
  };
}

/** The outbox envelopes of one allocation on one subject, oldest first. */
export async function outboxEvents(pool: pg.Pool, allocationId: string, subject?: string): Promise<EventEnvelope[]> {
  const { rows } = await pool.query<{ envelope: EventEnvelope }>(
    `SELECT envelope FROM infra.outbox WHERE envelope -> 'payload' ->> 'allocation_id' = $1 AND ($2::text IS NULL OR subject = $2)
      ORDER BY created_at, event_id`,
    [allocationId, subject ?? null],
  );
  return rows.map((row) => row.envelope);
}

export async function stateOf(pool: pg.Pool, allocationId: string): Promise<{ state: string; state_reason: string | null; version: number }> {
  const { rows } = await pool.query('SELECT state, state_reason, version FROM compute.allocations WHERE id = $1', [allocationId]);
  return rows[0];
}

export async function tasksOf(pool: pg.Pool, allocationId: string) {
  const { rows } = await pool.query<{ id: string; node_id: string; kind: string; state: string; payload: Record<string, unknown>; allocation_id: string }>(
    `SELECT id, node_id, kind, state, payload, allocation_id FROM compute.node_tasks WHERE allocation_id = $1 ORDER BY created_at, id`,
    [allocationId],
  );
  return rows;
}

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { resolvePolicies, type Policies } from '@gpuaas/config';
import { createEnvelope, type EventEnvelope } from '@gpuaas/events';
import { createTestDatabase, type TestDatabase } from '@gpuaas/testkit';

export interface BillingDb {
  readonly pool: pg.Pool;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

export async function openBillingDb(): Promise<BillingDb> {
  const database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 12 });
  return {
    pool,
    database,
    close: async () => {
      await pool.end();
      await database.drop();
    },
  };
}

export const policies: Policies = resolvePolicies({});

export const at = (iso: string) => new Date(iso);
export const plusSeconds = (time: Date, seconds: number) => new Date(time.getTime() + seconds * 1000);

export interface AllocationFixture {
  readonly allocationId: string;
  readonly userId: string;
  readonly projectId: string;
  readonly profileId: string;
  readonly hourly: number;
}

export function allocationFixture(userId: string, hourly: number, profileId: string = randomUUID()): AllocationFixture {
  return { allocationId: randomUUID(), userId, projectId: randomUUID(), profileId, hourly };
}

function allocationPayload(allocation: AllocationFixture) {
  return {
    allocation_id: allocation.allocationId,
    project_id: allocation.projectId,
    user_id: allocation.userId,
    profile_id: allocation.profileId,
    region: 'eu-west-1',
    node_id: randomUUID(),
    slot_id: null,
    hourly_price: { amount_minor: allocation.hourly, currency: 'USD' },
    requested_at: '2026-01-01T00:00:00.000Z',
  };
}

export const activeEvent = (allocation: AllocationFixture, activeAt: Date): EventEnvelope =>
  createEnvelope('provisioning.active', { ...allocationPayload(allocation), active_at: activeAt.toISOString() });

export const releasedEvent = (allocation: AllocationFixture, activeAt: Date, releasedAt: Date): EventEnvelope =>
  createEnvelope('provisioning.releasing.completed', {
    ...allocationPayload(allocation),
    active_at: activeAt.toISOString(),
    released_at: releasedAt.toISOString(),
    reason_code: 'user_release',
  });

export const lostEvent = (allocation: AllocationFixture, activeAt: Date, lastHeartbeatAt: Date, lostAt: Date): EventEnvelope =>
  createEnvelope('provisioning.lost', {
    ...allocationPayload(allocation),
    active_at: activeAt.toISOString(),
    lost_at: lostAt.toISOString(),
    last_heartbeat_at: lastHeartbeatAt.toISOString(),
  });

/** What an allocation must cost in total: whole seconds at the hourly price, rounded down once. */
export const expectedCharge = (hourly: number, seconds: number) => (BigInt(hourly) * BigInt(seconds)) / 3600n;

export async function walletOf(pool: pg.Pool, userId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>("SELECT id FROM billing.wallets WHERE owner_kind = 'user' AND owner_id = $1", [userId]);
  return rows[0]?.id;
}

/** Balance from the entries themselves, for checking the running balance against. */
export async function summedBalance(pool: pg.Pool, walletId: string): Promise<bigint> {
  const { rows } = await pool.query<{ sum: string | null }>("SELECT sum(amount_minor) AS sum FROM billing.ledger_entries WHERE wallet_id = $1 AND account = 'wallet'", [walletId]);
  return BigInt(rows[0]?.sum ?? 0);
}

export async function usageCharged(pool: pg.Pool, allocationId: string): Promise<bigint> {
  const { rows } = await pool.query<{ sum: string | null }>(
    "SELECT sum(-amount_minor) AS sum FROM billing.ledger_entries WHERE allocation_id = $1 AND account = 'wallet'",
    [allocationId],
  );
  return BigInt(rows[0]?.sum ?? 0);
}

export async function outboxSubjects(pool: pg.Pool): Promise<{ subject: string; payload: Record<string, unknown> }[]> {
  const { rows } = await pool.query<{ subject: string; envelope: { payload: Record<string, unknown> } }>(
    'SELECT subject, envelope FROM infra.outbox ORDER BY created_at, event_id',
  );
  return rows.map((row) => ({ subject: row.subject, payload: row.envelope.payload }));
}

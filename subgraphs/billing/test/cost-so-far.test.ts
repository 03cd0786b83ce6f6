import { randomUUID } from 'node:crypto';
import { withTransaction } from '@gpuaas/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLedgerEntries } from '../src/ledger/post.js';
import { handleMeteringEvent } from '../src/metering/events.js';
import { runMeteringTick } from '../src/metering/tick.js';
import {
  activeEvent,
  allocationFixture,
  expectedCharge,
  lostEvent,
  openBillingDb,
  plusSeconds,
  policies,
  releasedEvent,
  usageCharged,
  type BillingDb,
} from './support/billing-db.js';

let db: BillingDb;
const deps = () => ({ pool: db.pool, policies });

beforeAll(async () => {
  db = await openBillingDb();
});
afterAll(async () => {
  await db?.close();
});

async function grant(userId: string, amountMinor: bigint) {
  return withTransaction(db.pool, (client) =>
    postLedgerEntries(client, { idempotencyKey: randomUUID(), kind: 'admin_credit', userId, amountMinor, currency: 'USD', description: 'test grant', actorUserId: randomUUID() }),
  );
}

// The function counts up to the database's now(), so the meters are placed relative to it.
async function databaseNow(): Promise<Date> {
  const { rows } = await db.pool.query<{ now: Date }>('SELECT now()');
  return rows[0]!.now;
}

/** The function's rows, with the now() they were computed at (same statement, same transaction time). */
async function costSoFar(allocationIds: readonly string[]) {
  const { rows } = await db.pool.query<{ allocation_id: string; amount_minor: string; currency: string; now: Date }>(
    'SELECT c.allocation_id, c.amount_minor, c.currency, now() FROM billing.cost_so_far_of($1::uuid[]) c ORDER BY c.allocation_id',
    [allocationIds],
  );
  return rows.map((row) => ({ allocationId: row.allocation_id, amountMinor: BigInt(row.amount_minor), currency: row.currency, now: row.now }));
}

const wholeSeconds = (from: Date, to: Date) => Math.floor((to.getTime() - from.getTime()) / 1000);

describe('billing.cost_so_far_of', () => {
  it('answers a running meter with its settled periods plus what accrued since, as the next tick will book it', async () => {
    const userId = randomUUID();
    await grant(userId, 10_000_000n);
    // An awkward price and a start off the second, so that per-period rounding would show.
    const allocation = allocationFixture(userId, 7_919);
    const activeAt = plusSeconds(await databaseNow(), -250.3);
    await handleMeteringEvent(deps(), activeEvent(allocation, activeAt));
    await runMeteringTick(db.pool, policies, plusSeconds(activeAt, 61.5));
    await runMeteringTick(db.pool, policies, plusSeconds(activeAt, 187.2));
    const settled = await usageCharged(db.pool, allocation.allocationId);
    expect(settled).toBe(expectedCharge(7_919, 187));

    const [cost] = await costSoFar([allocation.allocationId]);
    expect(cost).toMatchObject({ allocationId: allocation.allocationId, currency: 'USD' });
    expect(cost!.amountMinor).toBe(expectedCharge(7_919, wholeSeconds(activeAt, cost!.now)));
    expect(cost!.amountMinor).toBeGreaterThan(settled);
    // The tick at that same instant books exactly the difference.
    await runMeteringTick(db.pool, policies, cost!.now);
    expect(await usageCharged(db.pool, allocation.allocationId)).toBe(cost!.amountMinor);
  });

  it('answers a stopped, fully settled meter with exactly what the ledger debited for the allocation', async () => {
    const userId = randomUUID();
    await grant(userId, 10_000_000n);
    const allocation = allocationFixture(userId, 3_601);
    const now = await databaseNow();
    const activeAt = plusSeconds(now, -900.75);
    await handleMeteringEvent(deps(), activeEvent(allocation, activeAt));
    await runMeteringTick(db.pool, policies, plusSeconds(activeAt, 120.1));
    await handleMeteringEvent(deps(), releasedEvent(allocation, activeAt, plusSeconds(activeAt, 333.9)));

    const [cost] = await costSoFar([allocation.allocationId]);
    expect(cost!.amountMinor).toBe(expectedCharge(3_601, 333));
    expect(cost!.amountMinor).toBe(await usageCharged(db.pool, allocation.allocationId));
    // Time passing changes nothing once stopped.
    await runMeteringTick(db.pool, policies, plusSeconds(now, 5));
    expect((await costSoFar([allocation.allocationId]))[0]!.amountMinor).toBe(cost!.amountMinor);
  });

  it('nets out usage credited back when the stop came after ticks had settled past it', async () => {
    const userId = randomUUID();
    await grant(userId, 10_000_000n);
    const allocation = allocationFixture(userId, 36_000);
    const now = await databaseNow();
    const activeAt = plusSeconds(now, -400);
    await handleMeteringEvent(deps(), activeEvent(allocation, activeAt));
    await runMeteringTick(db.pool, policies, plusSeconds(activeAt, 300));
    await handleMeteringEvent(deps(), lostEvent(allocation, activeAt, plusSeconds(activeAt, 200), plusSeconds(activeAt, 290)));

    const [cost] = await costSoFar([allocation.allocationId]);
    expect(cost!.amountMinor).toBe(2_000n);
    expect(cost!.amountMinor).toBe(await usageCharged(db.pool, allocation.allocationId));
  });

  it('gives no row to an allocation without a meter, and answers several allocations in one call', async () => {
    const userId = randomUUID();
    await grant(userId, 10_000_000n);
    const metered = [allocationFixture(userId, 3_600), allocationFixture(userId, 0)];
    const activeAt = plusSeconds(await databaseNow(), -30);
    for (const allocation of metered) await handleMeteringEvent(deps(), activeEvent(allocation, activeAt));
    const neverActive = randomUUID();

    const rows = await costSoFar([neverActive, ...metered.map((allocation) => allocation.allocationId)]);
    expect(rows.map((row) => row.allocationId).sort()).toEqual(metered.map((allocation) => allocation.allocationId).sort());
    const byId = new Map(rows.map((row) => [row.allocationId, row]));
    const paid = byId.get(metered[0]!.allocationId)!;
    expect(paid.amountMinor).toBe(BigInt(wholeSeconds(activeAt, paid.now)));
    expect(byId.get(metered[1]!.allocationId)!.amountMinor).toBe(0n);
    expect(await costSoFar([neverActive])).toEqual([]);
    expect(await costSoFar([])).toEqual([]);
  });
});

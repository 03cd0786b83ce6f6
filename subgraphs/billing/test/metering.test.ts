import { randomUUID } from 'node:crypto';
import { withTransaction } from '@gpuaas/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLedgerEntries, walletBalance } from '../src/ledger/post.js';
import { ensureWallet } from '../src/ledger/wallets.js';
import { handleMeteringEvent } from '../src/metering/events.js';
import { runMeteringTick } from '../src/metering/tick.js';
import {
  activeEvent,
  allocationFixture,
  at,
  expectedCharge,
  lostEvent,
  openBillingDb,
  outboxSubjects,
  plusSeconds,
  policies,
  releasedEvent,
  summedBalance,
  usageCharged,
  walletOf,
  type BillingDb,
} from './support/billing-db.js';

let db: BillingDb;
const deps = () => ({ pool: db.pool, policies });
const T0 = at('2026-11-27T10:00:00.250Z');

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

describe('metering', () => {
  it('charges per second from active, in ticks, and settles exactly at release', async () => {
    const userId = randomUUID();
    await grant(userId, 1_000_000n);
    const allocation = allocationFixture(userId, 3_600_00); // 100 minor units per second
    await handleMeteringEvent(deps(), activeEvent(allocation, T0));
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 60.5));
    expect(await usageCharged(db.pool, allocation.allocationId)).toBe(6_000n);
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 121.9));
    expect(await usageCharged(db.pool, allocation.allocationId)).toBe(12_100n);
    await handleMeteringEvent(deps(), releasedEvent(allocation, T0, plusSeconds(T0, 150.7)));
    expect(await usageCharged(db.pool, allocation.allocationId)).toBe(expectedCharge(allocation.hourly, 150));
    // Nothing runs after the release.
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 400));
    expect(await usageCharged(db.pool, allocation.allocationId)).toBe(15_000n);
    const walletId = (await walletOf(db.pool, userId))!;
    expect(await walletBalance(db.pool, walletId)).toBe(1_000_000n - 15_000n);
    expect(await summedBalance(db.pool, walletId)).toBe(1_000_000n - 15_000n);
  });

  it('never charges a period twice: replayed ticks and redelivered events book nothing', async () => {
    const userId = randomUUID();
    await grant(userId, 1_000_000n);
    const allocation = allocationFixture(userId, 7_919);
    const active = activeEvent(allocation, T0);
    await handleMeteringEvent(deps(), active);
    expect(await handleMeteringEvent(deps(), active)).toBe('duplicate');
    await Promise.all([1, 2, 3].map(() => runMeteringTick(db.pool, policies, plusSeconds(T0, 90))));
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 90));
    expect(await usageCharged(db.pool, allocation.allocationId)).toBe(expectedCharge(7_919, 90));
    const released = releasedEvent(allocation, T0, plusSeconds(T0, 3_333));
    await handleMeteringEvent(deps(), released);
    await handleMeteringEvent(deps(), { ...released, event_id: randomUUID() });
    expect(await usageCharged(db.pool, allocation.allocationId)).toBe(expectedCharge(7_919, 3_333));
  });

  it('meters a release that overtook its active event, and ignores the late active', async () => {
    const userId = randomUUID();
    await grant(userId, 1_000_000n);
    const allocation = allocationFixture(userId, 36_000);
    await handleMeteringEvent(deps(), releasedEvent(allocation, T0, plusSeconds(T0, 100)));
    await handleMeteringEvent(deps(), activeEvent(allocation, T0));
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 500));
    expect(await usageCharged(db.pool, allocation.allocationId)).toBe(1_000n);
  });

  it('stops a lost allocation at the last heartbeat, crediting back time a tick already charged', async () => {
    const userId = randomUUID();
    await grant(userId, 1_000_000n);
    const allocation = allocationFixture(userId, 36_000);
    await handleMeteringEvent(deps(), activeEvent(allocation, T0));
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 300));
    await handleMeteringEvent(deps(), lostEvent(allocation, T0, plusSeconds(T0, 200), plusSeconds(T0, 290)));
    const walletId = (await walletOf(db.pool, userId))!;
    expect(await walletBalance(db.pool, walletId)).toBe(1_000_000n - 2_000n);
    const { rows } = await db.pool.query("SELECT amount_minor FROM billing.ledger_entries WHERE allocation_id = $1 AND kind = 'adjustment' AND account = 'wallet'", [allocation.allocationId]);
    expect(rows.map((row) => row.amount_minor)).toEqual(['1000']);
  });
});

describe('low balance', () => {
  it('warns once per crossing, announces the auto-release deadline, then depletes and force-releases', async () => {
    const userId = randomUUID();
    const allocation = allocationFixture(userId, 3_600); // 1 per second
    await grant(userId, 3_000n); // runway 3000 s < warning 3600 s
    await handleMeteringEvent(deps(), activeEvent(allocation, T0), T0);
    const walletId = (await walletOf(db.pool, userId))!;
    const warnings = async () => (await outboxSubjects(db.pool)).filter((event) => event.payload['wallet_id'] === walletId);
    expect((await warnings()).map((event) => event.subject)).toEqual(['billing.low_balance_warning']);
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 60));
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 120));
    expect((await warnings()).map((event) => event.subject)).toEqual(['billing.low_balance_warning']);
    // 2880 s charged → 120 s of runway left, below the 600 s grace period.
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 2_880));
    const pending = (await warnings()).filter((event) => event.subject === 'billing.auto_release_pending');
    expect(pending).toHaveLength(1);
    expect(pending[0]!.payload['deadline']).toBe(plusSeconds(T0, 3_000).toISOString());
    expect(pending[0]!.payload['live_allocation_ids']).toEqual([allocation.allocationId]);
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 3_030));
    const subjects = (await warnings()).map((event) => event.subject);
    expect(subjects).toEqual(['billing.low_balance_warning', 'billing.auto_release_pending', 'billing.balance_depleted']);
    const forced = (await outboxSubjects(db.pool)).filter((event) => event.subject === 'provisioning.force_release_requested' && event.payload['allocation_id'] === allocation.allocationId);
    expect(forced).toHaveLength(1);
    expect(forced[0]!.payload).toMatchObject({ reason_code: 'balance_depleted', requested_by: { kind: 'billing', id: walletId }, user_id: userId });
    // The bound: never below zero by more than one tick's worth (60 s at 1/s).
    const balance = await walletBalance(db.pool, walletId);
    expect(balance).toBeLessThanOrEqual(0n);
    expect(balance).toBeGreaterThanOrEqual(-60n);
    // Metering stopped at depletion: later ticks and the release charge nothing more.
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 4_000));
    await handleMeteringEvent(deps(), releasedEvent(allocation, T0, plusSeconds(T0, 4_100)));
    expect(await walletBalance(db.pool, walletId)).toBe(balance);
  });

  it('force-releases an allocation that goes active on an already depleted wallet', async () => {
    const userId = randomUUID();
    await grant(userId, 60n);
    const first = allocationFixture(userId, 3_600);
    await handleMeteringEvent(deps(), activeEvent(first, T0), T0);
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 120));
    const walletId = (await walletOf(db.pool, userId))!;
    const { rows: states } = await db.pool.query('SELECT state FROM billing.low_balance_states WHERE wallet_id = $1', [walletId]);
    expect(states[0]?.state).toBe('depleted');
    const late = allocationFixture(userId, 3_600);
    await handleMeteringEvent(deps(), activeEvent(late, plusSeconds(T0, 130)), plusSeconds(T0, 130));
    const forced = (await outboxSubjects(db.pool)).filter((event) => event.subject === 'provisioning.force_release_requested' && event.payload['allocation_id'] === late.allocationId);
    expect(forced).toHaveLength(1);
    const { rows } = await db.pool.query('SELECT stopped_at FROM billing.meters WHERE allocation_id = $1', [late.allocationId]);
    expect(rows[0]?.stopped_at).toEqual(plusSeconds(T0, 130));
  });

  it('lets a top-up clear the state, so the next crossing warns again', async () => {
    const userId = randomUUID();
    const allocation = allocationFixture(userId, 3_600);
    await grant(userId, 3_000n);
    await handleMeteringEvent(deps(), activeEvent(allocation, T0), T0);
    const walletId = (await walletOf(db.pool, userId))!;
    await withTransaction(db.pool, (client) =>
      postLedgerEntries(client, { idempotencyKey: randomUUID(), kind: 'admin_credit', walletId, amountMinor: 100_000n, currency: 'USD', description: 'top-up', actorUserId: randomUUID() }),
    );
    await runMeteringTick(db.pool, policies, plusSeconds(T0, 60));
    const { rows } = await db.pool.query('SELECT state FROM billing.low_balance_states WHERE wallet_id = $1', [walletId]);
    expect(rows[0]?.state).toBe('none');
  });
});

describe('concurrency', () => {
  it('applies an event delivered several times at once exactly once, a redelivered stop included', async () => {
    const userId = randomUUID();
    await grant(userId, 1_000_000n);
    const allocation = allocationFixture(userId, 36_000);
    const active = activeEvent(allocation, T0);
    const started = await Promise.all(Array.from({ length: 5 }, () => handleMeteringEvent(deps(), active)));
    expect(started.filter((result) => result === 'applied')).toHaveLength(1);
    expect(started.filter((result) => result === 'duplicate')).toHaveLength(4);
    const released = releasedEvent(allocation, T0, plusSeconds(T0, 100));
    const stopped = await Promise.all(Array.from({ length: 5 }, () => handleMeteringEvent(deps(), released)));
    expect(stopped.filter((result) => result === 'applied')).toHaveLength(1);
    expect(await handleMeteringEvent(deps(), released)).toBe('duplicate');
    expect(await usageCharged(db.pool, allocation.allocationId)).toBe(1_000n);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM infra.processed_events WHERE event_id = ANY ($1::uuid[])', [[active.event_id, released.event_id]]);
    expect(rows[0].n).toBe(2);
  });

  it("starts a new user's concurrent allocations on the one wallet it creates for them", async () => {
    const userId = randomUUID();
    const allocations = Array.from({ length: 8 }, () => allocationFixture(userId, 0));
    await Promise.all(allocations.map((allocation) => handleMeteringEvent(deps(), activeEvent(allocation, T0), T0)));
    const { rows } = await db.pool.query(
      `SELECT count(DISTINCT w.id)::int AS wallets, count(m.id)::int AS meters FROM billing.wallets w
       LEFT JOIN billing.meters m ON m.wallet_id = w.id WHERE w.owner_kind = 'user' AND w.owner_id = $1`,
      [userId],
    );
    expect(rows[0]).toEqual({ wallets: 1, meters: 8 });
  });

  it('keeps a small wallet within one tick of zero while ticks and releases race', async () => {
    const userId = randomUUID();
    await grant(userId, 500n);
    const allocations = Array.from({ length: 20 }, () => allocationFixture(userId, 3_600)); // 20 × 1/s
    await Promise.all(allocations.map((allocation) => handleMeteringEvent(deps(), activeEvent(allocation, T0), T0)));
    await Promise.all([
      ...[10, 20, 30, 40, 50, 60].map((seconds) => runMeteringTick(db.pool, policies, plusSeconds(T0, seconds))),
      ...allocations.map((allocation, index) => handleMeteringEvent(deps(), releasedEvent(allocation, T0, plusSeconds(T0, 15 + index * 2)), plusSeconds(T0, 60))),
    ]);
    const walletId = (await walletOf(db.pool, userId))!;
    const balance = await walletBalance(db.pool, walletId);
    // One tick's worth here: 20 allocations at 1/s for the longest gap a settlement can cover (60 s).
    expect(balance).toBeGreaterThanOrEqual(-20n * 60n);
    expect(balance).toBe(await summedBalance(db.pool, walletId));
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM billing.meters m JOIN billing.wallets w ON w.id = m.wallet_id WHERE w.owner_id = $1 AND m.stopped_at IS NULL', [userId]);
    expect(rows[0].n).toBe(0);
  });
});

describe('ledger', () => {
  it('refuses to change or delete an entry', async () => {
    const userId = randomUUID();
    const entry = await grant(userId, 500n);
    await expect(db.pool.query('UPDATE billing.ledger_entries SET amount_minor = 1 WHERE id = $1', [entry.id])).rejects.toThrow(/immutable/);
    await expect(db.pool.query('DELETE FROM billing.ledger_entries WHERE id = $1', [entry.id])).rejects.toThrow(/immutable/);
  });

  it('books every posting as legs that sum to zero, and refuses an unbalanced one', async () => {
    const { rows } = await db.pool.query('SELECT transaction_id FROM billing.ledger_entries GROUP BY transaction_id, currency HAVING sum(amount_minor) <> 0 OR count(*) < 2');
    expect(rows).toEqual([]);
    const wallet = await withTransaction(db.pool, (client) => ensureWallet(client, 'user', randomUUID(), 'USD'));
    await expect(
      db.pool.query(
        `INSERT INTO billing.ledger_entries (id, transaction_id, wallet_id, kind, account, amount_minor, currency, actor_id, idempotency_key)
         VALUES ($1, $2, $3, 'admin_credit', 'wallet', 10, 'USD', $4, $5)`,
        [randomUUID(), randomUUID(), wallet.id, randomUUID(), randomUUID()],
      ),
    ).rejects.toThrow(/does not balance/);
  });

  it('answers a repeated idempotency key with the first entry', async () => {
    const userId = randomUUID();
    const key = randomUUID();
    const post = () =>
      withTransaction(db.pool, (client) =>
        postLedgerEntries(client, { idempotencyKey: key, kind: 'admin_credit', userId, amountMinor: 700n, currency: 'USD', description: 'once', actorUserId: userId }),
      );
    const [first, second] = await Promise.all([post(), post()]);
    expect(second.id).toBe(first.id);
    expect(await walletBalance(db.pool, first.walletId)).toBe(700n);
  });

  it('keeps 100 concurrent debits against a small balance from going below zero', async () => {
    const userId = randomUUID();
    const credit = await grant(userId, 1_000n);
    const refundable = await db.pool.query('SELECT 1'); // keep the pool warm before the burst
    expect(refundable.rowCount).toBe(1);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, () =>
        withTransaction(db.pool, (client) =>
          postLedgerEntries(client, { idempotencyKey: randomUUID(), kind: 'adjustment', walletId: credit.walletId, amountMinor: -30n, currency: 'USD', description: 'debit', actorUserId: userId }),
        ),
      ),
    );
    const booked = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    expect(booked).toBe(33);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect((outcome.reason as { code?: string }).code).toBe('insufficient_balance');
    expect(await walletBalance(db.pool, credit.walletId)).toBe(10n);
    expect(await summedBalance(db.pool, credit.walletId)).toBe(10n);
  });
});

describe('billing.admission_of', () => {
  const admission = async (userId: string, hourly: number, setting?: string) =>
    withTransaction(db.pool, async (client) => {
      if (setting) await client.query("SELECT set_config('gpuaas.min_runway_for_new_allocation_seconds', $1, true)", [setting]);
      const { rows } = await client.query('SELECT allowed, runway_seconds, balance_minor FROM billing.admission_of($1, $2, $3)', [userId, hourly, 'USD']);
      return rows[0];
    });

  it('admits a new allocation only when the runway including its price reaches the policy minimum', async () => {
    const userId = randomUUID();
    expect(await admission(userId, 100)).toEqual({ allowed: false, runway_seconds: '0', balance_minor: '0' });
    expect(await admission(userId, 0)).toEqual({ allowed: true, runway_seconds: null, balance_minor: '0' });
    await grant(userId, 3_600n);
    expect(await admission(userId, 3_600)).toEqual({ allowed: true, runway_seconds: '3600', balance_minor: '3600' });
    // What already burns counts: with 7200/h running, 3600/h more leaves 1200 s.
    await handleMeteringEvent(deps(), activeEvent(allocationFixture(userId, 7_200), T0));
    expect(await admission(userId, 3_600)).toMatchObject({ allowed: true, runway_seconds: '1200' });
    expect(await admission(userId, 10_800)).toMatchObject({ allowed: false, runway_seconds: '720' });
    expect(await admission(userId, 10_800, '600')).toMatchObject({ allowed: true });
  });
});

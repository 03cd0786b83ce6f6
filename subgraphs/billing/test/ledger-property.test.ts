import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { uuidv7, withTransaction } from '@gpuaas/db';
import { createEnvelope, type EventEnvelope } from '@gpuaas/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLedgerEntries, walletBalance } from '../src/ledger/post.js';
import { ensureWallet } from '../src/ledger/wallets.js';
import { handleMeteringEvent } from '../src/metering/events.js';
import { runMeteringTick } from '../src/metering/tick.js';
import { activeEvent, allocationFixture, openBillingDb, plusSeconds, policies, releasedEvent, type AllocationFixture, type BillingDb } from './support/billing-db.js';

/**
 * Random sequences of top-ups (with webhook redeliveries), operator credits, refunds, allocations starting and
 * stopping (events duplicated and reordered), and metering ticks of random length, checked after every step
 * against a small in-memory model. Runs and seed: PROPERTY_RUNS (default 1000), PROPERTY_SEED; fast-check prints
 * the seed and the shrunk counterexample on failure.
 */
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 1000);
const SEED = Number(process.env['PROPERTY_SEED'] ?? 20_261_127);
const ALLOCATIONS = 3;
const MAX_TICK_SECONDS = 120;

type Command =
  | { readonly kind: 'topup'; readonly amount: number; readonly redeliver: boolean }
  | { readonly kind: 'credit'; readonly amount: number }
  | { readonly kind: 'refund'; readonly amount: number }
  | { readonly kind: 'start'; readonly allocation: number }
  | { readonly kind: 'stop'; readonly allocation: number }
  | { readonly kind: 'tick'; readonly seconds: number }
  | { readonly kind: 'redeliver'; readonly pick: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('topup' as const), amount: fc.integer({ min: 1, max: 5_000 }), redeliver: fc.boolean() }),
  fc.record({ kind: fc.constant('credit' as const), amount: fc.integer({ min: 1, max: 2_000 }) }),
  fc.record({ kind: fc.constant('refund' as const), amount: fc.integer({ min: 1, max: 3_000 }) }),
  fc.record({ kind: fc.constant('start' as const), allocation: fc.integer({ min: 0, max: ALLOCATIONS - 1 }) }),
  fc.record({ kind: fc.constant('stop' as const), allocation: fc.integer({ min: 0, max: ALLOCATIONS - 1 }) }),
  fc.record({ kind: fc.constant('tick' as const), seconds: fc.integer({ min: 1, max: MAX_TICK_SECONDS }) }),
  fc.record({ kind: fc.constant('redeliver' as const), pick: fc.nat() }),
);

let db: BillingDb;
beforeAll(async () => {
  db = await openBillingDb();
});
afterAll(async () => {
  await db?.close();
});

interface Model {
  credits: bigint;
  refunds: bigint;
  readonly started: Map<number, Date>;
  readonly stopped: Map<number, Date>;
  readonly delivered: EventEnvelope[];
  readonly payments: string[];
  lastTick: Date;
}

async function runSequence(commands: readonly Command[]): Promise<void> {
  const userId = randomUUID();
  const wallet = await withTransaction(db.pool, (client) => ensureWallet(client, 'user', userId, 'USD'));
  const allocations: AllocationFixture[] = Array.from({ length: ALLOCATIONS }, (_, index) => allocationFixture(userId, [3_600, 36_000, 7_919][index]!));
  const maxBurn = allocations.reduce((sum, allocation) => sum + BigInt(allocation.hourly), 0n);
  const bound = -((maxBurn * BigInt(MAX_TICK_SECONDS)) / 3600n) - 1n;
  let clock = new Date('2026-11-01T00:00:00.000Z');
  const model: Model = { credits: 0n, refunds: 0n, started: new Map(), stopped: new Map(), delivered: [], payments: [], lastTick: clock };
  const seen = new Map<string, string>();
  const deps = { pool: db.pool, policies };
  const deliver = async (envelope: EventEnvelope) => {
    model.delivered.push(envelope);
    await handleMeteringEvent(deps, envelope, clock);
  };

  for (const step of commands) {
    clock = plusSeconds(clock, 1.25);
    switch (step.kind) {
      case 'topup': {
        const paymentId = uuidv7();
        await db.pool.query(
          `INSERT INTO billing.payments (id, stripe_payment_intent_id, user_id, wallet_id, amount_minor, currency) VALUES ($1, $2, $3, $4, $5, 'USD')`,
          [paymentId, `pi_${paymentId}`, userId, wallet.id, step.amount],
        );
        const credited = createEnvelope('payments.balance_credited', {
          payment_id: paymentId, stripe_event_id: `evt_${paymentId}`, stripe_checkout_session_id: `cs_${paymentId}`, user_id: userId,
          wallet_id: wallet.id, project_id: null, amount: { amount_minor: step.amount, currency: 'USD' }, paid_at: clock.toISOString(),
        });
        await deliver(credited);
        // A webhook replayed by Stripe: a new event for the same payment.
        if (step.redeliver) await deliver({ ...credited, event_id: uuidv7() });
        model.credits += BigInt(step.amount);
        model.payments.push(paymentId);
        break;
      }
      case 'credit':
        await withTransaction(db.pool, (client) =>
          postLedgerEntries(client, { idempotencyKey: randomUUID(), kind: 'admin_credit', walletId: wallet.id, amountMinor: BigInt(step.amount), currency: 'USD', description: 'grant', actorUserId: userId }),
        );
        model.credits += BigInt(step.amount);
        break;
      case 'refund': {
        const paymentId = model.payments.at(-1);
        if (!paymentId) break;
        const refundId = uuidv7();
        const booked = await withTransaction(db.pool, async (client) => {
          await client.query(
            `INSERT INTO billing.refunds (id, user_id, wallet_id, payment_id, amount_minor, currency, reason, status, decided_at)
             VALUES ($1, $2, $3, $4, $5, 'USD', 'property test', 'approved', now())`,
            [refundId, userId, wallet.id, paymentId, step.amount],
          );
          return postLedgerEntries(client, { idempotencyKey: `refund:${refundId}`, kind: 'refund', walletId: wallet.id, amountMinor: BigInt(step.amount), currency: 'USD', refundId, description: 'refund' });
        }).then(
          () => true,
          (error: { code?: string }) => {
            if (error.code !== 'insufficient_balance') throw error;
            return false;
          },
        );
        if (booked) model.refunds += BigInt(step.amount);
        break;
      }
      case 'start': {
        if (model.started.has(step.allocation)) break;
        model.started.set(step.allocation, clock);
        await deliver(activeEvent(allocations[step.allocation]!, clock));
        break;
      }
      case 'stop': {
        const startedAt = model.started.get(step.allocation);
        if (!startedAt || model.stopped.has(step.allocation)) break;
        model.stopped.set(step.allocation, clock);
        await deliver(releasedEvent(allocations[step.allocation]!, startedAt, clock));
        break;
      }
      case 'tick':
        clock = plusSeconds(clock, step.seconds);
        await runMeteringTick(db.pool, policies, clock);
        model.lastTick = clock;
        break;
      case 'redeliver': {
        const envelope = model.delivered[step.pick % Math.max(model.delivered.length, 1)];
        if (envelope) await deliver(envelope);
        break;
      }
    }
    await checkInvariants();
  }

  async function checkInvariants() {
    const { rows } = await db.pool.query<{ id: string; kind: string; amount_minor: string; balance_after: string; wallet_seq: string; allocation_id: string | null }>(
      `SELECT id, kind, amount_minor, balance_after, wallet_seq, allocation_id FROM billing.ledger_entries WHERE wallet_id = $1 AND account = 'wallet' ORDER BY wallet_seq`,
      [wallet.id],
    );
    // No entry ever changes.
    for (const row of rows) {
      const fingerprint = `${row.kind}|${row.amount_minor}|${row.balance_after}|${row.wallet_seq}`;
      const before = seen.get(row.id);
      if (before !== undefined) expect(fingerprint).toBe(before);
      seen.set(row.id, fingerprint);
    }
    // The balance is the sum of the entries, at every point of the chain.
    let running = 0n;
    for (const row of rows) {
      running += BigInt(row.amount_minor);
      expect(BigInt(row.balance_after)).toBe(running);
    }
    expect(await walletBalance(db.pool, wallet.id)).toBe(running);
    // Credits and refunds exactly as the model booked them (a replayed webhook credits once).
    const sumOf = (kinds: string[]) => rows.filter((row) => kinds.includes(row.kind)).reduce((sum, row) => sum + BigInt(row.amount_minor), 0n);
    expect(sumOf(['topup_credit', 'admin_credit'])).toBe(model.credits);
    expect(-sumOf(['refund'])).toBe(model.refunds);
    // No double charge: no allocation costs more than its metered seconds allow; unless the wallet ran dry and
    // metering stopped early, it costs exactly that.
    const forced = await db.pool.query<{ allocation_id: string }>(
      `SELECT envelope->'payload'->>'allocation_id' AS allocation_id FROM infra.outbox WHERE subject = 'provisioning.force_release_requested' AND envelope->'payload'->'requested_by'->>'id' = $1`,
      [wallet.id],
    );
    const forcedIds = new Set(forced.rows.map((row) => row.allocation_id));
    allocations.forEach((allocation, index) => {
      const startedAt = model.started.get(index);
      const charged = -rows.filter((row) => row.allocation_id === allocation.allocationId).reduce((sum, row) => sum + BigInt(row.amount_minor), 0n);
      if (!startedAt) return expect(charged).toBe(0n);
      const stoppedAt = model.stopped.get(index);
      const charge = (until: Date) => (BigInt(allocation.hourly) * BigInt(Math.max(0, Math.floor((until.getTime() - startedAt.getTime()) / 1000)))) / 3600n;
      const full = charge(stoppedAt ?? (model.lastTick > startedAt ? model.lastTick : startedAt));
      // Depletion stops a meter whenever the policy runs (not only at ticks): never more than up to now.
      if (forcedIds.has(allocation.allocationId)) expect(charged <= charge(stoppedAt ?? clock), `allocation ${index} charged ${charged} beyond its metered time`).toBe(true);
      else expect(charged, `allocation ${index} charged`).toBe(full);
    });
    // Never below zero by more than one tick's worth.
    expect(running >= bound, `balance ${running} below the bound ${bound}`).toBe(true);
  }
}

describe('ledger and metering under random sequences', () => {
  it('keeps balance = sum of entries, entries immutable, no double charge, and the overdraft bound', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), runSequence), { numRuns: RUNS, seed: SEED, endOnFailure: true });
  }, 600_000);
});

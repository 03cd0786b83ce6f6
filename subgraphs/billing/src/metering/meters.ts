import type pg from 'pg';
import { createEnvelope, type EventEnvelope, type Subject } from '@gpuaas/events';
import { postLedgerEntries } from '../ledger/post.js';
import { ensureWallet, lockWallet } from '../ledger/wallets.js';
import { settleMeters } from './settle.js';

// A "now" past any stop: settles a stopped meter all the way to its stop.
const SETTLE_TO_STOP = new Date('9999-12-31T00:00:00Z');

// Meters count whole seconds from their start, so a stop ($2) is kept on that grid: once settled to it, a stopped
// meter owes nothing and drops out of the tick's work.
const STOP_FLOOR = "(m.started_at + floor(extract(epoch FROM GREATEST($2::timestamptz, m.started_at) - m.started_at)) * interval '1 second')";

/** The allocation facts every provisioning event carries. */
export interface MeteredAllocation {
  readonly allocationId: string;
  readonly userId: string;
  readonly projectId: string | null;
  readonly profileId: string | null;
  readonly region: string | null;
  readonly nodeId: string | null;
  readonly slotId: string | null;
  readonly hourlyAmountMinor: bigint;
  readonly currency: string;
}

/**
 * Starts metering at `activeAt` against the creator's personal wallet (the wallet compute's admission check,
 * billing.admission_of, judged). A meter exists once per allocation: a redelivered or late `active` is a no-op.
 * Returns the wallet id.
 */
export async function startMeter(client: pg.ClientBase, allocation: MeteredAllocation, activeAt: Date): Promise<string> {
  const wallet = await ensureWallet(client, 'user', allocation.userId, allocation.currency);
  await lockWallet(client, wallet.id);
  await client.query(
    `INSERT INTO billing.meters (id, allocation_id, wallet_id, hourly_amount_minor, currency, started_at, last_settled_until,
       user_id, project_id, profile_id, region, node_id, slot_id)
     VALUES (billing.uuid_v7(), $1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (allocation_id) DO NOTHING`,
    [allocation.allocationId, wallet.id, allocation.hourlyAmountMinor.toString(), allocation.currency, activeAt.toISOString(),
      allocation.userId, allocation.projectId, allocation.profileId, allocation.region, allocation.nodeId, allocation.slotId],
  );
  return wallet.id;
}

export interface StopOptions {
  /** When the allocation became active; lets a stop that overtook its `active` event meter the right span. */
  readonly activeAt: Date | null;
}

/**
 * Stops the allocation's meter at `stopAt` (an earlier stop stands) and settles it exactly to the stop, in the
 * caller's transaction. Ticks may already have settled past the stop (the event arrives after the fact: a release
 * reported late, a lost node's last heartbeat long gone); that time is credited back with one system adjustment
 * naming the allocation, so the allocation costs exactly up to its stop. Returns the wallet id, or undefined when
 * nothing was ever metered.
 */
export async function stopMeter(client: pg.ClientBase, allocation: MeteredAllocation, stopAt: Date, options: StopOptions): Promise<string | undefined> {
  const { rows: found } = await client.query<{ wallet_id: string }>('SELECT wallet_id FROM billing.meters WHERE allocation_id = $1', [allocation.allocationId]);
  let walletId = found[0]?.wallet_id;
  if (!walletId) {
    if (!options.activeAt) return undefined;
    walletId = await startMeter(client, allocation, options.activeAt);
  }
  await lockWallet(client, walletId);
  const { rows } = await client.query<{ hourly: string; started_at: Date; settled_until: Date; stop_floor: Date }>(
    `UPDATE billing.meters m
     SET stopped_at = GREATEST(m.last_settled_until, LEAST(COALESCE(m.stopped_at, ${STOP_FLOOR}), ${STOP_FLOOR})),
         updated_at = now()
     WHERE m.allocation_id = $1
     RETURNING m.hourly_amount_minor AS hourly, m.started_at, m.last_settled_until AS settled_until,
       ${STOP_FLOOR} AS stop_floor`,
    [allocation.allocationId, stopAt.toISOString()],
  );
  await settleMeters(client, SETTLE_TO_STOP, [allocation.allocationId]);
  const meter = rows[0]!;
  if (meter.settled_until > meter.stop_floor) {
    const hourly = BigInt(meter.hourly);
    const seconds = (until: Date) => BigInt(Math.floor((until.getTime() - meter.started_at.getTime()) / 1000));
    const overcharged = (hourly * seconds(meter.settled_until)) / 3600n - (hourly * seconds(meter.stop_floor)) / 3600n;
    if (overcharged > 0n) {
      await postLedgerEntries(client, {
        idempotencyKey: `settled-past-stop:${allocation.allocationId}`,
        kind: 'adjustment',
        walletId,
        amountMinor: overcharged,
        currency: allocation.currency,
        allocationId: allocation.allocationId,
        description: `Usage settled past the stop (${meter.stop_floor.toISOString()}) credited back`,
      });
    }
  }
  return walletId;
}

/**
 * Stops every running meter of the depleted wallets at `now` and settles them (at most the part of a tick not
 * yet settled), and returns one `provisioning.force_release_requested` per allocation that was running.
 */
export async function stopDepletedWallets(client: pg.ClientBase, walletIds: readonly string[], now: Date): Promise<EventEnvelope<unknown, Subject>[]> {
  if (walletIds.length === 0) return [];
  const { rows } = await client.query<{
    allocation_id: string; wallet_id: string; user_id: string | null; project_id: string | null; profile_id: string | null;
    region: string | null; node_id: string | null; slot_id: string | null; hourly: string; currency: string;
  }>(
    `UPDATE billing.meters m SET stopped_at = GREATEST(m.last_settled_until, ${STOP_FLOOR}), updated_at = now()
     WHERE m.wallet_id = ANY ($1::uuid[]) AND m.stopped_at IS NULL
     RETURNING m.allocation_id, m.wallet_id, m.user_id, m.project_id, m.profile_id, m.region, m.node_id, m.slot_id,
       m.hourly_amount_minor AS hourly, m.currency`,
    [walletIds, now.toISOString()],
  );
  if (rows.length > 0) await settleMeters(client, now, rows.map((row) => row.allocation_id));
  return rows.map((row) =>
    createEnvelope('provisioning.force_release_requested', {
      allocation_id: row.allocation_id,
      project_id: row.project_id,
      user_id: row.user_id,
      profile_id: row.profile_id,
      region: row.region,
      node_id: row.node_id,
      slot_id: row.slot_id,
      hourly_price: { amount_minor: Number(row.hourly), currency: row.currency.trim() },
      requested_by: { kind: 'billing', id: row.wallet_id },
      reason_code: 'balance_depleted',
      reason: "The wallet's balance is depleted",
    }),
  );
}

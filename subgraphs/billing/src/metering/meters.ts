import type pg from 'pg';
import { prepared } from '@gpuaas/db';
import { createEnvelope, type EventEnvelope, type ProcessOnceResult, type Subject } from '@gpuaas/events';
import { postLedgerEntries } from '../ledger/post.js';
import type { EventMarker } from './marker.js';
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

// The start and stop statements insert the event's marker themselves (a data-modifying CTE; the event id is null
// when the caller already holds the marker) and gate all their work on it, so a redelivery, or one that waited on
// a concurrent first delivery's marker row, changes nothing else: processOnce's semantics in the same statement.
const markerCte = (consumer: string, eventId: string) => `marker AS (
       INSERT INTO infra.processed_events (consumer, event_id, processed_at)
       SELECT ${consumer}::text, ${eventId}::uuid, now() WHERE ${eventId}::uuid IS NOT NULL
       ON CONFLICT (consumer, event_id) DO NOTHING
       RETURNING 1
     )`;

// The wallet upsert's DO UPDATE (of the key, to itself) returns the wallet whether it existed, was just inserted
// or was inserted by a concurrent transaction after this statement's snapshot, and locks it as FOR UPDATE does.
// jit = off for the rest of the transaction (see marker.ts).
const START = `WITH ${markerCte('$11', '$12')}, wallet AS (
       INSERT INTO billing.wallets AS w (id, owner_kind, owner_id, currency)
       SELECT billing.uuid_v7(), 'user', $5, $3 WHERE $12::uuid IS NULL OR EXISTS (SELECT 1 FROM marker)
       ON CONFLICT (owner_kind, owner_id, currency) DO UPDATE SET id = w.id
       RETURNING w.id
     ), meter AS (
       INSERT INTO billing.meters (id, allocation_id, wallet_id, hourly_amount_minor, currency, started_at, last_settled_until,
         user_id, project_id, profile_id, region, node_id, slot_id)
       SELECT billing.uuid_v7(), $1, wallet.id, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10 FROM wallet
       ON CONFLICT (allocation_id) DO NOTHING
     )
     SELECT (SELECT wallet.id FROM wallet) AS wallet_id, set_config('jit', 'off', true) AS jit`;

/**
 * Starts metering at `activeAt` against the creator's personal wallet (the wallet compute's admission check,
 * billing.admission_of, judged), in one statement that also inserts the event's marker (unless `marker` is null:
 * the caller holds it) and locks the wallet. A meter exists once per allocation: a redelivered or late `active`
 * is a no-op. Returns the wallet id.
 */
export async function startMeter(
  client: pg.ClientBase,
  allocation: MeteredAllocation,
  activeAt: Date,
  marker: EventMarker | null = null,
): Promise<ProcessOnceResult<string>> {
  const { rows } = await client.query<{ wallet_id: string | null }>(prepared(START, [
    allocation.allocationId, allocation.hourlyAmountMinor.toString(), allocation.currency, activeAt.toISOString(),
    allocation.userId, allocation.projectId, allocation.profileId, allocation.region, allocation.nodeId, allocation.slotId,
    marker?.consumer ?? null, marker?.eventId ?? null,
  ]));
  const walletId = rows[0]!.wallet_id;
  return walletId === null ? { duplicate: true } : { duplicate: false, result: walletId };
}

export interface StopOptions {
  /** When the allocation became active; lets a stop that overtook its `active` event meter the right span. */
  readonly activeAt: Date | null;
}

// Finds the meter, locks its wallet, then stops it (an earlier stop stands): the same order as a posting, so the
// UPDATE (re-checked against the newest row version if a tick settled it meanwhile) runs under the lock.
const STOP = `WITH ${markerCte('$3', '$4')}, wallet AS (
       SELECT w.id FROM billing.wallets w
       WHERE w.id = (SELECT m.wallet_id FROM billing.meters m WHERE m.allocation_id = $1)
         AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM marker))
       FOR UPDATE
     ), stopped AS (
       UPDATE billing.meters m
       SET stopped_at = GREATEST(m.last_settled_until, LEAST(COALESCE(m.stopped_at, ${STOP_FLOOR}), ${STOP_FLOOR})),
           updated_at = now()
       FROM wallet w
       WHERE m.allocation_id = $1 AND m.wallet_id = w.id
       RETURNING m.wallet_id, m.hourly_amount_minor AS hourly, m.started_at, m.last_settled_until AS settled_until,
         ${STOP_FLOOR} AS stop_floor
     )
     SELECT $4::uuid IS NULL OR EXISTS (SELECT 1 FROM marker) AS fresh,
            s.wallet_id, s.hourly, s.started_at, s.settled_until, s.stop_floor, set_config('jit', 'off', true) AS jit
     FROM (SELECT 1) one LEFT JOIN stopped s ON true`;

interface StoppedRow {
  fresh: boolean;
  wallet_id: string | null;
  hourly: string;
  started_at: Date;
  settled_until: Date;
  stop_floor: Date;
}

/**
 * Stops the allocation's meter at `stopAt` (an earlier stop stands) and settles it exactly to the stop, in the
 * caller's transaction; the stop statement also inserts the event's marker (unless `marker` is null). Ticks may
 * already have settled past the stop (the event arrives after the fact: a release reported late, a lost node's
 * last heartbeat long gone); that time is credited back with one system adjustment naming the allocation, so the
 * allocation costs exactly up to its stop. Returns the wallet id, or undefined when nothing was ever metered.
 */
export async function stopMeter(
  client: pg.ClientBase,
  allocation: MeteredAllocation,
  stopAt: Date,
  options: StopOptions,
  marker: EventMarker | null = null,
): Promise<ProcessOnceResult<string | undefined>> {
  const stop = (held: EventMarker | null) =>
    client.query<StoppedRow>(prepared(STOP, [allocation.allocationId, stopAt.toISOString(), held?.consumer ?? null, held?.eventId ?? null]));
  let meter = (await stop(marker)).rows[0]!;
  if (!meter.fresh) return { duplicate: true };
  if (meter.wallet_id === null) {
    if (!options.activeAt) return { duplicate: false, result: undefined };
    // The stop overtook its `active` (rare): start the meter, then stop it; the marker is already ours.
    await startMeter(client, allocation, options.activeAt);
    meter = (await stop(null)).rows[0]!;
  }
  const walletId = meter.wallet_id!;
  await settleMeters(client, SETTLE_TO_STOP, [allocation.allocationId]);
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
  return { duplicate: false, result: walletId };
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

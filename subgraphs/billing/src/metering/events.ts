import type pg from 'pg';
import { withTransaction } from '@gpuaas/db';
import type { EventEnvelope, ProcessOnceResult } from '@gpuaas/events';
import { postLedgerEntries } from '../ledger/post.js';
import type { LowBalancePolicies } from './low-balance.js';
import { claimEvent, type EventMarker } from './marker.js';
import { startMeter, stopMeter, type MeteredAllocation } from './meters.js';
import { enforceLowBalancePolicy } from './policy.js';

/** The billing-worker's durable consumer name (idempotency markers in infra.processed_events carry it). */
export const BILLING_CONSUMER = 'billing-worker';

/** The subjects the billing-worker consumes. */
export const billingWorkerSubjects = [
  'provisioning.active',
  'provisioning.failed',
  'provisioning.releasing.completed',
  'provisioning.release_failed',
  'provisioning.lost',
  'payments.balance_credited',
] as const;

export interface MeteringDeps {
  readonly pool: pg.Pool;
  readonly policies: LowBalancePolicies;
}

export type MeteringEventResult = 'applied' | 'duplicate' | 'ignored' | 'malformed';

type Payload = Record<string, unknown>;

/**
 * Applies one event to the meters or the ledger, in one transaction with its idempotency marker and the
 * low-balance policy of the wallet it touched: active starts a meter; released, release_failed and failed stop it
 * at the event's time; lost stops it at the last heartbeat; a paid top-up books its credit (once per payment).
 */
export async function handleMeteringEvent(deps: MeteringDeps, envelope: EventEnvelope, now: Date = new Date()): Promise<MeteringEventResult> {
  const payload = envelope.payload as Payload;
  const work = planOf(envelope.event_type, payload, envelope);
  if (work === 'malformed' || work === 'ignored') return work;
  return withTransaction(deps.pool, async (client) => {
    // The work inserts the idempotency marker (processOnce's row) in its first statement, and does nothing else
    // when the event was seen before.
    const once = await work(client, { consumer: BILLING_CONSUMER, eventId: envelope.event_id });
    if (once.duplicate) return 'duplicate';
    if (once.result) await enforceLowBalancePolicy(client, deps.policies, now, [once.result]);
    return 'applied';
  });
}

/** Applies the event once per marker; the result is the wallet it touched, if any. */
type Work = (client: pg.PoolClient, marker: EventMarker) => Promise<ProcessOnceResult<string | undefined>>;

function planOf(subject: string, payload: Payload, envelope: EventEnvelope): Work | 'malformed' | 'ignored' {
  if (subject === 'payments.balance_credited') return creditOf(payload, envelope);
  const allocation = allocationOf(payload);
  if (!allocation) return 'malformed';
  const activeAt = timeOf(payload['active_at']);
  switch (subject) {
    case 'provisioning.active':
      return activeAt ? (client, marker) => startMeter(client, allocation, activeAt, marker) : 'malformed';
    case 'provisioning.releasing.completed':
      return stopAt(allocation, timeOf(payload['released_at']), activeAt);
    case 'provisioning.release_failed':
    case 'provisioning.failed':
      return stopAt(allocation, timeOf(payload['failed_at']), activeAt);
    case 'provisioning.lost': {
      const lostAt = timeOf(payload['lost_at']);
      const heartbeat = timeOf(payload['last_heartbeat_at']);
      // Metering ends at the last heartbeat, never before the allocation became active.
      const stop = heartbeat ?? activeAt ?? lostAt;
      return stopAt(allocation, stop && activeAt && stop < activeAt ? activeAt : stop, activeAt);
    }
    default:
      return 'ignored';
  }
}

function stopAt(allocation: MeteredAllocation, at: Date | undefined, activeAt: Date | undefined): Work | 'malformed' {
  if (!at) return 'malformed';
  return (client, marker) => stopMeter(client, allocation, at, { activeAt: activeAt ?? null }, marker);
}

function creditOf(payload: Payload, envelope: EventEnvelope): Work | 'malformed' {
  const paymentId = uuidOf(payload['payment_id']);
  const walletId = uuidOf(payload['wallet_id']);
  const amount = moneyOf(payload['amount']);
  if (!paymentId || !walletId || !amount || amount.amountMinor <= 0n) return 'malformed';
  return async (client, marker) => {
    if (!(await claimEvent(client, marker))) return { duplicate: true };
    await postLedgerEntries(client, {
      idempotencyKey: `topup:${paymentId}`,
      kind: 'topup_credit',
      walletId,
      amountMinor: amount.amountMinor,
      currency: amount.currency,
      paymentId,
      description: 'Top-up via Stripe checkout',
      correlationId: envelope.correlation_id,
    });
    return { duplicate: false, result: walletId };
  };
}

function allocationOf(payload: Payload): MeteredAllocation | undefined {
  const allocationId = uuidOf(payload['allocation_id']);
  const userId = uuidOf(payload['user_id']);
  const price = moneyOf(payload['hourly_price']);
  if (!allocationId || !userId || !price || price.amountMinor < 0n) return undefined;
  return {
    allocationId,
    userId,
    projectId: uuidOf(payload['project_id']) ?? null,
    profileId: uuidOf(payload['profile_id']) ?? null,
    region: typeof payload['region'] === 'string' ? payload['region'] : null,
    nodeId: uuidOf(payload['node_id']) ?? null,
    slotId: uuidOf(payload['slot_id']) ?? null,
    hourlyAmountMinor: price.amountMinor,
    currency: price.currency,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidOf = (value: unknown) => (typeof value === 'string' && UUID.test(value) ? value : undefined);

function timeOf(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

function moneyOf(value: unknown): { amountMinor: bigint; currency: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { amount_minor: amount, currency } = value as Payload;
  const integer = typeof amount === 'number' ? Number.isSafeInteger(amount) : typeof amount === 'string' && /^-?\d{1,19}$/.test(amount);
  if (!integer || typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) return undefined;
  return { amountMinor: BigInt(amount as number | string), currency };
}

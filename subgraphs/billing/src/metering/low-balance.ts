import type pg from 'pg';
import { prepared } from '@gpuaas/db';
import type { Policies } from '@gpuaas/config';
import { createEnvelope, type EventEnvelope, type Subject } from '@gpuaas/events';

export type LowBalanceState = 'none' | 'warning' | 'auto_release_pending' | 'depleted';

const rank: { readonly [S in LowBalanceState]: number } = { none: 0, warning: 1, auto_release_pending: 2, depleted: 3 };

export type LowBalancePolicies = Pick<Policies, 'low_balance_warning_runway_seconds' | 'auto_release_grace_seconds'>;

export interface LowBalanceTransition {
  readonly walletId: string;
  readonly owner: { readonly kind: 'user' | 'project'; readonly id: string };
  readonly currency: string;
  readonly balanceMinor: bigint;
  readonly burnPerHourMinor: bigint;
  readonly runwaySeconds: number | null;
  readonly from: LowBalanceState;
  readonly to: LowBalanceState;
  readonly deadline: Date | null;
  readonly liveAllocationIds: readonly string[];
}

export interface LowBalanceOutcome {
  /** The wallets whose state (or deadline) changed, in id order. */
  readonly transitions: LowBalanceTransition[];
  /** The candidates left depleted that still have running meters: newly depleted, or a meter started since. */
  readonly depletedWithRunningMeters: string[];
}

/**
 * applyLowBalancePolicy's statement over the wallets `scope` names ($1), $2 now, $3 the warning runway, $4 the grace
 * period: `meters` limits the running meters read, `candidates` lists the wallets judged.
 */
const policyStatement = (scope: { meters: string; candidates: string }) => `WITH running AS (
       SELECT m.wallet_id, sum(m.hourly_amount_minor)::bigint AS burn, array_agg(m.allocation_id ORDER BY m.allocation_id) AS live
       FROM billing.meters m
       WHERE m.stopped_at IS NULL AND ${scope.meters}
       GROUP BY m.wallet_id
     ), candidate_ids AS (
       ${scope.candidates}
     ), figures AS MATERIALIZED (
       SELECT w.id, w.owner_kind, w.owner_id, w.currency, COALESCE(s.state, 'none') AS from_state, s.deadline AS from_deadline,
              COALESCE(b.balance_after, 0) AS balance, COALESCE(r.burn, 0) AS burn, COALESCE(r.live, '{}') AS live
       FROM candidate_ids c
       JOIN billing.wallets w ON w.id = c.id
       LEFT JOIN running r ON r.wallet_id = c.id
       LEFT JOIN billing.low_balance_states s ON s.wallet_id = c.id
       LEFT JOIN LATERAL (SELECT e.balance_after FROM billing.ledger_entries e
                          WHERE e.wallet_id = c.id AND e.account = 'wallet' ORDER BY e.wallet_seq DESC LIMIT 1) b ON true
     ), judged AS (
       SELECT f.*, CASE WHEN f.burn > 0 THEN GREATEST(f.balance, 0) * 3600 / f.burn END AS runway,
              CASE
                WHEN f.burn > 0 AND f.balance <= 0 THEN 'depleted'
                WHEN f.from_state = 'depleted' AND f.balance <= 0 THEN 'depleted'
                WHEN f.burn > 0 AND GREATEST(f.balance, 0) * 3600 / f.burn < $4 THEN 'auto_release_pending'
                WHEN f.burn > 0 AND GREATEST(f.balance, 0) * 3600 / f.burn < $3 THEN 'warning'
                ELSE 'none'
              END AS to_state
       FROM figures f
     ), decided AS (
       SELECT j.*, d.deadline, (j.to_state <> j.from_state OR d.deadline IS DISTINCT FROM j.from_deadline) AS changed
       FROM judged j
       CROSS JOIN LATERAL (SELECT CASE WHEN j.to_state = 'auto_release_pending' THEN $2::timestamptz + j.runway * interval '1 second' END AS deadline) d
     ), saved AS (
       INSERT INTO billing.low_balance_states AS s (wallet_id, state, crossed_at, deadline, updated_at)
       SELECT c.id, c.to_state, CASE WHEN c.to_state = 'none' THEN NULL ELSE $2::timestamptz END, c.deadline, now()
       FROM decided c WHERE c.changed
       ON CONFLICT (wallet_id) DO UPDATE SET state = excluded.state,
         crossed_at = CASE WHEN s.state = excluded.state THEN s.crossed_at ELSE excluded.crossed_at END,
         deadline = excluded.deadline, updated_at = excluded.updated_at
     )
     -- Every wallet with a running meter is a candidate, and its state after this statement is its to_state, so
     -- this is what a read of the saved states would find (a separate statement's snapshot is not needed).
     SELECT c.id AS wallet_id, c.owner_kind, c.owner_id, c.currency, c.balance, c.burn, c.runway, c.from_state, c.to_state,
            c.deadline, c.live, c.changed
     FROM decided c
     WHERE c.changed OR (c.to_state = 'depleted' AND cardinality(c.live) > 0)
     ORDER BY c.id`;

/** For `walletIds` (null: every wallet with a running meter or a state other than none). */
const POLICY_FOR_WALLETS = policyStatement({
  meters: '($1::uuid[] IS NULL OR m.wallet_id = ANY ($1::uuid[]))',
  candidates: `SELECT r.wallet_id AS id FROM running r
       UNION SELECT s.wallet_id FROM billing.low_balance_states s WHERE s.state <> 'none' AND $1::uuid[] IS NULL
       UNION SELECT unnest($1::uuid[])`,
});

/**
 * For one wallet (what each meter start and stop asks): named, so each connection caches its plan. The list form is
 * planned on every call (no generic plan of `$1 IS NULL OR … = ANY($1)` can use the meters' wallet index), and
 * planning it cost more than running it.
 */
const POLICY_FOR_ONE_WALLET = policyStatement({ meters: 'm.wallet_id = $1::uuid', candidates: 'SELECT $1::uuid AS id' });


/**
 * Moves each candidate wallet to the low-balance state its balance and burn rate call for, in one statement:
 * `depleted` at a zero balance while something burns, and it stays there until a credit lifts the balance;
 * `auto_release_pending` when the runway is below the grace period, its deadline (now + runway) following the
 * runway so a top-up pushes it out; `warning` below the warning threshold; `none` otherwise. Candidates are
 * `walletIds`, or (null) every wallet with a running meter or a state other than none. Returns the wallets whose
 * state (or deadline) changed, which the caller announces when they got worse, and, from the same statement, the
 * depleted ones whose meters the caller stops.
 */
export async function applyLowBalancePolicy(
  client: pg.ClientBase,
  policies: LowBalancePolicies,
  now: Date,
  walletIds: readonly string[] | null,
): Promise<LowBalanceOutcome> {
  const figures = [now.toISOString(), policies.low_balance_warning_runway_seconds, policies.auto_release_grace_seconds];
  const { rows } = await client.query<{
    wallet_id: string;
    owner_kind: 'user' | 'project';
    owner_id: string;
    currency: string;
    balance: string;
    burn: string;
    runway: string | null;
    from_state: LowBalanceState;
    to_state: LowBalanceState;
    deadline: Date | null;
    live: string[];
    changed: boolean;
  }>(
    walletIds?.length === 1 ? prepared(POLICY_FOR_ONE_WALLET, [walletIds[0], ...figures]) : { text: POLICY_FOR_WALLETS, values: [walletIds, ...figures] },
  );
  const transitions = rows.filter((row) => row.changed).map((row) => ({
    walletId: row.wallet_id,
    owner: { kind: row.owner_kind, id: row.owner_id },
    currency: row.currency.trim(),
    balanceMinor: BigInt(row.balance),
    burnPerHourMinor: BigInt(row.burn),
    runwaySeconds: row.runway === null ? null : Number(row.runway),
    from: row.from_state,
    to: row.to_state,
    deadline: row.deadline,
    liveAllocationIds: row.live,
  }));
  const depletedWithRunningMeters = rows.filter((row) => row.to_state === 'depleted' && row.live.length > 0).map((row) => row.wallet_id);
  return { transitions, depletedWithRunningMeters };
}

export const gotWorse = (transition: LowBalanceTransition) => rank[transition.to] > rank[transition.from];

/**
 * The events a worsening announces, once per crossing: each threshold passed on the way up is announced in order
 * (a wallet that falls from none straight to depleted hears all three).
 */
export function lowBalanceEvents(transition: LowBalanceTransition, now: Date, policies: LowBalancePolicies): EventEnvelope<unknown, Subject>[] {
  const events: EventEnvelope<unknown, Subject>[] = [];
  const money = (amount: bigint) => ({ amount_minor: Number(amount), currency: transition.currency });
  const base = {
    wallet_id: transition.walletId,
    owner: transition.owner,
    balance: money(transition.balanceMinor),
    burn_rate_per_hour: money(transition.burnPerHourMinor),
  };
  const runway = transition.runwaySeconds ?? 0;
  const passes = (state: LowBalanceState) => rank[transition.from] < rank[state] && rank[transition.to] >= rank[state];
  if (passes('warning')) {
    events.push(createEnvelope('billing.low_balance_warning', { ...base, runway_seconds: runway, threshold_seconds: policies.low_balance_warning_runway_seconds }));
  }
  if (passes('auto_release_pending')) {
    const deadline = transition.deadline ?? now;
    events.push(createEnvelope('billing.auto_release_pending', { ...base, runway_seconds: runway, deadline: deadline.toISOString(), live_allocation_ids: transition.liveAllocationIds }));
  }
  if (passes('depleted')) {
    events.push(createEnvelope('billing.balance_depleted', { ...base, runway_seconds: 0, live_allocation_ids: transition.liveAllocationIds, depleted_at: now.toISOString() }));
  }
  return events;
}

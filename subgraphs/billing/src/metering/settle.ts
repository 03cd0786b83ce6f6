import type pg from 'pg';
import { prepared } from '@gpuaas/db';

export interface SettleResult {
  readonly periods: number;
  readonly debits: number;
  readonly chargedMinor: bigint;
  /** Wallets whose meters were settled (their balance may have moved). */
  readonly walletIds: readonly string[];
}

/**
 * Locks, in id order, the wallets that own meters still owing settlement (all of them, or those of
 * `allocationIds`): postings to a wallet serialise on its row, and a fixed order keeps two ticks from deadlocking.
 */
export async function lockWalletsOwing(client: pg.ClientBase, allocationIds: readonly string[] | null): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT w.id FROM billing.wallets w
     WHERE w.id IN (SELECT m.wallet_id FROM billing.meters m
                    WHERE (m.stopped_at IS NULL OR m.last_settled_until < m.stopped_at)
                      AND ($1::uuid[] IS NULL OR m.allocation_id = ANY ($1::uuid[])))
     ORDER BY w.id FOR UPDATE OF w`,
    [allocationIds],
  );
  return rows.map((row) => row.id);
}

/** settleMeters' statement; `allocationFilter` limits the meters ($1 now, $2 the allocation or allocations). */
const settleStatement = (allocationFilter: string) => `WITH due AS (
       SELECT m.id, m.allocation_id, m.wallet_id, m.hourly_amount_minor AS hourly, m.currency, m.started_at,
              m.last_settled_until AS period_start,
              m.started_at + floor(extract(epoch FROM LEAST(COALESCE(m.stopped_at, $1::timestamptz), $1::timestamptz) - m.started_at))
                * interval '1 second' AS period_end
       FROM billing.meters m
       WHERE (m.stopped_at IS NULL OR m.last_settled_until < m.stopped_at)
         AND ${allocationFilter}
       FOR UPDATE OF m
     ), priced AS MATERIALIZED (
       SELECT d.*, billing.uuid_v7() AS period_id,
              extract(epoch FROM d.period_end - d.period_start)::integer AS seconds,
              d.hourly * extract(epoch FROM d.period_end - d.started_at)::bigint / 3600
                - d.hourly * extract(epoch FROM d.period_start - d.started_at)::bigint / 3600 AS amount
       FROM due d
       WHERE d.period_end > d.period_start
     ), periods AS (
       INSERT INTO billing.meter_periods (id, meter_id, allocation_id, period_start, period_end, seconds, amount_minor, currency)
       SELECT p.period_id, p.id, p.allocation_id, p.period_start, p.period_end, p.seconds, p.amount, p.currency FROM priced p
       ON CONFLICT (allocation_id, period_start) DO NOTHING
       RETURNING id, meter_id, allocation_id, period_start, period_end, amount_minor, currency
     ), advanced AS (
       UPDATE billing.meters m SET last_settled_until = p.period_end, updated_at = now()
       FROM periods p WHERE m.id = p.meter_id
       RETURNING m.id
     ), charged AS (
       SELECT p.id, p.allocation_id, p.period_start, p.period_end, p.amount_minor, p.currency, pr.wallet_id
       FROM periods p JOIN priced pr ON pr.period_id = p.id
       WHERE p.amount_minor > 0
     ), transactions AS MATERIALIZED (
       SELECT c.currency, billing.uuid_v7() AS id FROM (SELECT DISTINCT currency FROM charged) c
     ), legs AS (
       INSERT INTO billing.ledger_entries (id, transaction_id, wallet_id, kind, account, amount_minor, currency, allocation_id,
         meter_period_id, description, idempotency_key)
       SELECT billing.uuid_v7(), t.id, c.wallet_id, 'usage_debit', 'wallet', -c.amount_minor, c.currency, c.allocation_id, c.id,
              'Usage ' || to_char(c.period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '–'
                || to_char(c.period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
              'usage:' || c.allocation_id || ':' || to_char(c.period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
       FROM charged c JOIN transactions t ON t.currency = c.currency
       UNION ALL
       -- The counter-leg: one usage_revenue credit per settlement and currency, balancing all its wallet debits.
       SELECT billing.uuid_v7(), t.id, NULL, 'usage_debit', 'usage_revenue', sum(c.amount_minor), c.currency, NULL, NULL,
              'Usage revenue, ' || count(*) || ' periods', 'usage-revenue:' || t.id
       FROM charged c JOIN transactions t ON t.currency = c.currency
       GROUP BY t.id, c.currency
       RETURNING wallet_id, amount_minor, account
     )
     SELECT (SELECT count(*) FROM periods) AS periods,
            (SELECT count(*) FROM advanced) AS advanced,
            (SELECT count(*) FROM legs WHERE account = 'wallet') AS debits,
            (SELECT COALESCE(sum(-amount_minor), 0) FROM legs WHERE account = 'wallet') AS charged,
            (SELECT array_agg(DISTINCT wallet_id) FROM priced) AS wallet_ids`;

/** For `allocationIds` (null: every meter owing). */
const SETTLE_MANY = settleStatement('($2::uuid[] IS NULL OR m.allocation_id = ANY ($2::uuid[]))');

/**
 * For one allocation (each meter stop): named, so each connection caches its plan; the list form is planned on every
 * call (no generic plan of `$2 IS NULL OR … = ANY($2)` can use the index), which cost more than running it.
 */
const SETTLE_ONE = settleStatement('m.allocation_id = $2::uuid');

/**
 * Settles every meter that owes usage (or those of `allocationIds`) up to `now`, or to its stop when that is
 * earlier, in ONE statement: a meter period and a usage debit per meter, the meter advanced, and one usage_revenue
 * counter-leg per currency that balances all the debits (one ledger transaction per settlement).
 * Time is counted in whole seconds from the meter's start, and a period's price is the difference of the
 * cumulative price floor(hourly × seconds / 3600) at its two ends, so however the time is cut into periods (ticks
 * missed, a worker killed mid-tick, a stop between ticks) an allocation is charged exactly the same total.
 * A period is unique per (allocation, start), so a replayed or concurrent settlement books nothing twice.
 * The caller holds the wallet locks (lockWalletsOwing) in the same transaction.
 */
export async function settleMeters(client: pg.ClientBase, now: Date, allocationIds: readonly string[] | null): Promise<SettleResult> {
  const { rows } = await client.query<{ periods: string; debits: string; charged: string; wallet_ids: string[] | null }>(
    allocationIds?.length === 1 ? prepared(SETTLE_ONE, [now.toISOString(), allocationIds[0]]) : { text: SETTLE_MANY, values: [now.toISOString(), allocationIds] },
  );
  const row = rows[0]!;
  return { periods: Number(row.periods), debits: Number(row.debits), chargedMinor: BigInt(row.charged), walletIds: row.wallet_ids ?? [] };
}

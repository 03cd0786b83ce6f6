import type pg from 'pg';
import { AppError, Validation } from '@gpuaas/errors';

export type UsageGroupBy = 'allocation' | 'day' | 'profile';

export interface UsageRow {
  readonly key: string;
  readonly allocationId: string | null;
  readonly day: string | null;
  readonly profileId: string | null;
  readonly quantitySeconds: number;
  readonly amountMinor: bigint;
}

export interface UsageReport {
  readonly from: Date;
  readonly to: Date;
  readonly groupBy: UsageGroupBy;
  readonly currency: string;
  readonly rows: readonly UsageRow[];
  readonly totalSeconds: number;
  readonly totalMinor: bigint;
}

const MAX_WINDOW_MS = 92 * 24 * 3600 * 1000;

/**
 * Usage booked for the wallet's meters in periods starting in [from, to), grouped by allocation (with its
 * profile), UTC day of the period start, or profile. Live allocations count up to their last tick.
 */
export async function usageReport(db: pg.Pool | pg.ClientBase, walletId: string, currency: string, from: Date, to: Date, groupBy: UsageGroupBy): Promise<UsageReport> {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw Validation([{ field: 'query.from', message: 'must be RFC 3339 times' }]);
  if (from >= to) throw new AppError('unprocessable', '`from` must be before `to`');
  if (to.getTime() - from.getTime() > MAX_WINDOW_MS) throw new AppError('unprocessable', 'the window may span at most 92 days');
  const key = { allocation: 'm.allocation_id::text', day: `to_char(p.period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, profile: `COALESCE(m.profile_id::text, '')` }[groupBy];
  const { rows } = await db.query<{ key: string; profile_id: string | null; seconds: string; amount: string }>(
    `SELECT ${key} AS key, ${groupBy === 'day' ? 'NULL' : '(array_agg(m.profile_id))[1]'} AS profile_id,
            sum(p.seconds) AS seconds, sum(p.amount_minor) AS amount
     FROM billing.meters m JOIN billing.meter_periods p ON p.meter_id = m.id
     WHERE m.wallet_id = $1 AND p.period_start >= $2 AND p.period_start < $3
     GROUP BY 1 ORDER BY 1`,
    [walletId, from.toISOString(), to.toISOString()],
  );
  const report = rows.map((row) => ({
    key: row.key,
    allocationId: groupBy === 'allocation' ? row.key : null,
    day: groupBy === 'day' ? row.key : null,
    profileId: groupBy === 'day' ? null : row.profile_id,
    quantitySeconds: Number(row.seconds),
    amountMinor: BigInt(row.amount),
  }));
  return {
    from,
    to,
    groupBy,
    currency,
    rows: report,
    totalSeconds: report.reduce((sum, row) => sum + row.quantitySeconds, 0),
    totalMinor: report.reduce((sum, row) => sum + row.amountMinor, 0n),
  };
}

import { Migration } from '@gpuaas/db';

/**
 * The read interface compute resolves Allocation.costSoFar through (compute never reads billing's tables).
 * doc/architecture/db_schema.sql's billing section ends with the same SQL.
 */
export class Migration0004BillingCostSoFar extends Migration {
  override up(): void {
    this.addSql(`-- Read interface for compute's Allocation.costSoFar: what each allocation has cost so far, to the minor unit what
-- the ledger will hold once it is settled. The metering tick prices a period as the difference of the cumulative
-- floor(hourly × seconds from the meter's start / 3600) at its two ends, so the settled periods plus what has
-- accrued up to now (or the stop) telescope to that cumulative price at the later of the two: one row per meter,
-- however long it has run. Less usage credited back to the wallet for the allocation (a stop reported after ticks
-- had settled past it). No meter (never active), no row.
CREATE FUNCTION billing.cost_so_far_of(p_allocation_ids uuid[])
  RETURNS TABLE (allocation_id uuid, amount_minor bigint, currency char(3))
  LANGUAGE sql STABLE
  AS $fn$
    SELECT m.allocation_id,
      m.hourly_amount_minor * GREATEST(s.until_seconds, s.settled_seconds) / 3600
        - COALESCE((SELECT sum(e.amount_minor) FROM billing.ledger_entries e
                    WHERE e.allocation_id = m.allocation_id AND e.account = 'wallet' AND e.kind = 'adjustment'), 0)::bigint,
      m.currency
    FROM billing.meters m
    CROSS JOIN LATERAL (
      SELECT extract(epoch FROM m.last_settled_until - m.started_at)::bigint AS settled_seconds,
             floor(extract(epoch FROM LEAST(COALESCE(m.stopped_at, now()), now()) - m.started_at))::bigint AS until_seconds
    ) s
    WHERE m.allocation_id = ANY (p_allocation_ids)
  $fn$;
-- Usage credited back per allocation, for billing.cost_so_far_of without reading every usage debit of the allocation.
CREATE INDEX ledger_entries_allocation_adjustment_idx ON billing.ledger_entries (allocation_id) WHERE kind = 'adjustment' AND account = 'wallet';
`);
  }
}

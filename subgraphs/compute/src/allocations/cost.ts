import type pg from 'pg';
import { prepared } from '@gpuaas/db';
import { loadBatched } from '@gpuaas/service-kit';
import type { ComputeContext } from '../deps.js';

export interface CostSoFar {
  readonly amountMinor: string;
  readonly currency: string;
}

/** The allocation facts costSoFar needs, as toAllocationNode shapes them. */
export interface CostedAllocation {
  readonly id: string;
  readonly activeAt: Date | string | null;
  readonly hourlyPrice: { readonly currency: string };
}

/**
 * What each allocation has cost so far, as billing publishes it (`billing.cost_so_far_of`: settled plus accrued,
 * to the minor unit the ledger will hold). Compute never reads billing's tables. Allocations without a meter are
 * absent from the map.
 */
export async function costsSoFar(pool: pg.Pool, allocationIds: readonly string[]): Promise<Map<string, CostSoFar>> {
  const { rows } = await pool.query<{ allocation_id: string; amount_minor: string; currency: string }>(
    prepared('SELECT allocation_id, amount_minor::text, currency FROM billing.cost_so_far_of($1::uuid[])', [allocationIds]),
  );
  return new Map(rows.map((row) => [row.allocation_id, { amountMinor: row.amount_minor, currency: row.currency.trim() }]));
}

/**
 * Allocation.costSoFar, batched per request: a list's rows cost one query together. Billing meters only from
 * `active`, so an allocation that never got there costs nothing and needs no query.
 */
export async function resolveCostSoFar(allocation: CostedAllocation, ctx: ComputeContext): Promise<CostSoFar> {
  const zero = { amountMinor: '0', currency: allocation.hourlyPrice.currency };
  if (allocation.activeAt === null) return zero;
  return (await loadBatched(ctx, 'allocation.costSoFar', allocation.id, (ids) => costsSoFar(ctx.deps.pool, ids))) ?? zero;
}

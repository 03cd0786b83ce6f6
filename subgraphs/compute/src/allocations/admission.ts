import type pg from 'pg';
import { AppError } from '@gpuaas/errors';
import { prepared } from '@gpuaas/db';

export interface AdmissionPrice {
  readonly hourlyAmountMinor: bigint | string | number;
  readonly currency: string;
}

/**
 * Refuses a new allocation (`402 insufficient_balance`) when the wallet's runway, counting what it already burns plus
 * this price, would fall below `min_runway_for_new_allocation_seconds`. Billing answers through its published
 * `billing.admission_of`; billing only meters allocations once active, so the caller passes what its own allocations
 * still on their way (requested/provisioning, compute's rows) will burn, and it is added to the price here. Run it
 * under the per-user creation lock, so two concurrent requests of one user cannot both spend the same runway, after
 * setting `gpuaas.min_runway_for_new_allocation_seconds` to `minRunwaySeconds` in the same transaction (the function
 * reads it; createAllocation sets it in its live count, one round trip fewer).
 */
export async function enforceAdmission(client: pg.PoolClient, userId: string, price: AdmissionPrice, pendingHourly: bigint, minRunwaySeconds: number): Promise<void> {
  // 0 turns the check off: a cloud run without prepaid billing (or a test that is not about money).
  if (minRunwaySeconds <= 0) return;
  const hourly = BigInt(price.hourlyAmountMinor) + pendingHourly;
  const { rows } = await client.query<{ allowed: boolean; runway_seconds: string | null; balance_minor: string }>(
    prepared('SELECT allowed, runway_seconds::text, balance_minor::text FROM billing.admission_of($1, $2, $3)',
    [userId, hourly.toString(), price.currency],
  ));
  const admission = rows[0];
  if (!admission || admission.allowed) return;
  throw new AppError('insufficient_balance', 'The balance does not cover this allocation for the minimum runway; top up first', {
    balance: { amount_minor: Number(admission.balance_minor), currency: price.currency },
    runway_seconds: admission.runway_seconds === null ? null : Number(admission.runway_seconds),
    min_runway_seconds: minRunwaySeconds,
  });
}

import type pg from 'pg';
import { withTransaction } from '@gpuaas/db';
import type { LowBalancePolicies } from './low-balance.js';
import { enforceLowBalancePolicy } from './policy.js';
import { lockWalletsOwing, settleMeters } from './settle.js';

export interface TickResult {
  readonly periods: number;
  readonly debits: number;
  readonly chargedMinor: bigint;
  readonly walletTransitions: number;
  readonly durationMs: number;
}

/**
 * One metering tick, one transaction: settle every meter up to `now` (set-based), then apply the low-balance
 * policy to every wallet it concerns. A wallet that reaches zero stops metering right there, so its balance goes
 * below zero by at most what one tick charged. Concurrent ticks (replicas) serialise on the wallet locks, and the
 * second finds nothing left to settle; a tick killed mid-way rolls back and the next one settles the same time.
 */
export async function runMeteringTick(pool: pg.Pool, policies: LowBalancePolicies, now: Date = new Date()): Promise<TickResult> {
  const started = performance.now();
  return withTransaction(pool, async (client) => {
    // The tick's row estimates are rough (CTE chains), and JIT compiling them costs seconds for nothing.
    await client.query('SET LOCAL jit = off');
    await lockWalletsOwing(client, null);
    const settled = await settleMeters(client, now, null);
    const transitions = await enforceLowBalancePolicy(client, policies, now, null);
    return {
      periods: settled.periods,
      debits: settled.debits,
      chargedMinor: settled.chargedMinor,
      walletTransitions: transitions.length,
      durationMs: performance.now() - started,
    };
  });
}

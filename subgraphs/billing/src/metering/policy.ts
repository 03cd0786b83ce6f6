import type pg from 'pg';
import type { EventEnvelope, Subject } from '@gpuaas/events';
import { applyLowBalancePolicy, gotWorse, lowBalanceEvents, type LowBalancePolicies, type LowBalanceTransition } from './low-balance.js';
import { stopDepletedWallets } from './meters.js';
import { writeOutboxBatch } from './outbox-batch.js';

/**
 * Applies the low-balance policy to the wallets (null: every wallet it may concern) and, in the same transaction,
 * writes what the worsened ones announce: the billing.* events and, for depleted wallets, their meters stopped
 * and one provisioning.force_release_requested per live allocation.
 */
export async function enforceLowBalancePolicy(
  client: pg.ClientBase,
  policies: LowBalancePolicies,
  now: Date,
  walletIds: readonly string[] | null,
): Promise<LowBalanceTransition[]> {
  if (walletIds !== null && walletIds.length === 0) return [];
  const { transitions, depletedWithRunningMeters } = await applyLowBalancePolicy(client, policies, now, walletIds);
  const events: EventEnvelope<unknown, Subject>[] = [];
  for (const transition of transitions.filter(gotWorse)) events.push(...lowBalanceEvents(transition, now, policies));
  // Newly depleted wallets, and depleted ones where a meter started since (an allocation that went active late).
  events.push(...(await stopDepletedWallets(client, depletedWithRunningMeters, now)));
  await writeOutboxBatch(client, events);
  return transitions;
}

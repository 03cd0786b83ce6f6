import type { GraphQLResolverMap } from '@gpuaas/service-kit';
import { billingResolverMap } from '../payments/resolver-map.js';
import type { BillingContext } from '../deps.js';
import { callerWallet } from '../ledger/wallet-access.js';
import { requireActor } from '../payments/actor.js';
import { balanceOf, type BalanceView } from './balance.js';
import { onBalanceChanged } from './balance-listener.js';
import { pokedStream } from './balance-stream.js';
import { usageReport, type UsageGroupBy } from './usage.js';

const INT_MAX = 2_147_483_647n;
const money = (amountMinor: bigint, currency: string) => ({ amountMinor: amountMinor.toString(), currency });

export const balanceView = (view: BalanceView) => ({
  walletId: view.wallet.id,
  owner: { kind: view.wallet.ownerKind.toUpperCase(), id: view.wallet.ownerId },
  balance: money(view.balanceMinor, view.wallet.currency),
  burnRatePerHour: money(view.burnPerHourMinor, view.wallet.currency),
  // GraphQL Int is 32-bit; a runway beyond 68 years is reported as that.
  runwaySeconds: view.runwaySeconds === null ? null : Number(view.runwaySeconds > INT_MAX ? INT_MAX : view.runwaySeconds),
  lowBalance: view.lowBalance.toUpperCase(),
  autoReleaseDeadline: view.autoReleaseDeadline,
  asOf: view.asOf,
});

/** Resolvers of schema/metering.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const meteringResolvers: GraphQLResolverMap<object> = billingResolverMap({
  Query: {
    billingBalance: async (_: unknown, args: { projectId?: string | null }, ctx: BillingContext) => {
      const wallet = await callerWallet(ctx.deps.pool, requireActor(ctx), args.projectId);
      return balanceView(await balanceOf(ctx.deps.pool, wallet));
    },
    billingUsage: async (_: unknown, args: { from: Date; to: Date; groupBy?: string | null; projectId?: string | null }, ctx: BillingContext) => {
      const wallet = await callerWallet(ctx.deps.pool, requireActor(ctx), args.projectId);
      const groupBy = (args.groupBy ?? 'ALLOCATION').toLowerCase() as UsageGroupBy;
      const report = await usageReport(ctx.deps.pool, wallet.id, wallet.currency, new Date(args.from), new Date(args.to), groupBy);
      return {
        from: report.from,
        to: report.to,
        groupBy: report.groupBy.toUpperCase(),
        rows: report.rows.map((row) => ({ ...row, amount: money(row.amountMinor, report.currency) })),
        totals: { quantitySeconds: report.totalSeconds, amount: money(report.totalMinor, report.currency) },
      };
    },
  },
  Subscription: {
    balanceUpdated: {
      subscribe: async (_: unknown, args: { projectId?: string | null }, ctx: BillingContext) => {
        const { pool, logger } = ctx.deps;
        const wallet = await callerWallet(pool, requireActor(ctx), args.projectId);
        return pokedStream(
          (poke) => onBalanceChanged(pool, logger, wallet.id, poke),
          async () => ({ balanceUpdated: balanceView(await balanceOf(pool, wallet)) }),
        );
      },
    },
  },
});

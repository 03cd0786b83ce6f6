import type { GraphQLResolverMap } from '@gpuaas/service-kit';
import { billingResolverMap } from '../payments/resolver-map.js';
import { Validation } from '@gpuaas/errors';
import type { BillingContext } from '../deps.js';
import { requireActor, requireAdmin } from '../payments/actor.js';
import { isLedgerEntryKind, type LedgerEntryKind } from './accounts.js';
import type { LedgerEntry } from './entries.js';
import { balanceOf } from '../metering/balance.js';
import { grantCredit } from './grant-credit.js';
import { listLedgerEntries, type LedgerPage } from './listing.js';
import { callerWallet } from './wallet-access.js';
import { DEFAULT_CURRENCY, findWallet } from './wallets.js';

interface PageArgs {
  first?: number | null;
  after?: string | null;
  kind?: string | null;
}

const money = (amountMinor: bigint, currency: string) => ({ amountMinor: amountMinor.toString(), currency });

export const ledgerEntryView = (entry: LedgerEntry) => ({
  id: entry.id,
  walletId: entry.walletId,
  kind: entry.kind.toUpperCase(),
  amount: money(entry.amountMinor, entry.currency),
  balanceAfter: money(entry.balanceAfterMinor, entry.currency),
  allocationId: entry.allocationId,
  paymentId: entry.paymentId,
  refundId: entry.refundId,
  description: entry.description,
  createdAt: entry.createdAt,
  allocation: entry.allocationId ? { __typename: 'Allocation', id: entry.allocationId } : null,
  occurredAt: entry.createdAt,
});

const connection = (page: LedgerPage) => ({
  edges: page.items.map((item) => ({ node: ledgerEntryView(item.node), cursor: item.cursor })),
  pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
});

const emptyConnection = { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };

/** The released contract's names, still accepted as filters. */
const releasedKinds: Readonly<Record<string, LedgerEntryKind>> = { TOP_UP: 'topup_credit', USAGE: 'usage_debit' };

function kindOf(value: string | null | undefined): LedgerEntryKind | null {
  if (value === null || value === undefined) return null;
  const kind = releasedKinds[value] ?? value.toLowerCase();
  if (!isLedgerEntryKind(kind)) throw Validation([{ field: 'query.kind', message: 'is not a ledger entry kind' }]);
  return kind;
}

/** Resolvers of schema/ledger.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const ledgerResolvers: GraphQLResolverMap<object> = billingResolverMap({
  Query: {
    wallet: async (_: unknown, _args: unknown, ctx: BillingContext) => {
      const wallet = await callerWallet(ctx.deps.pool, requireActor(ctx), null);
      const view = await balanceOf(ctx.deps.pool, wallet);
      return {
        id: wallet.id,
        owner: { __typename: 'User', id: wallet.ownerId },
        balance: money(view.balanceMinor, wallet.currency),
        runwaySeconds: view.runwaySeconds === null ? null : Number(view.runwaySeconds > 2_147_483_647n ? 2_147_483_647n : view.runwaySeconds),
        updatedAt: view.asOf,
      };
    },
    ledgerEntries: async (_: unknown, args: PageArgs & { projectId?: string | null; from?: Date | null; to?: Date | null }, ctx: BillingContext) => {
      const actor = requireActor(ctx);
      const wallet = await callerWallet(ctx.deps.pool, actor, args.projectId);
      const page = await listLedgerEntries(ctx.deps.pool, wallet.id, args.first, args.after, { kind: kindOf(args.kind), from: args.from ?? null, to: args.to ?? null });
      return connection(page);
    },
    adminLedgerEntries: async (_: unknown, args: PageArgs & { userId?: string | null; projectId?: string | null }, ctx: BillingContext) => {
      requireAdmin(ctx);
      if (Boolean(args.userId) === Boolean(args.projectId)) throw Validation([{ field: 'query.user_id', message: 'name exactly one of user_id or project_id' }]);
      const wallet = await findWallet(ctx.deps.pool, args.userId ? 'user' : 'project', (args.userId ?? args.projectId)!, DEFAULT_CURRENCY);
      // A wallet nobody has used yet has no entries; listing it is not an error.
      if (!wallet) return emptyConnection;
      return connection(await listLedgerEntries(ctx.deps.pool, wallet.id, args.first, args.after, { kind: kindOf(args.kind) }));
    },
  },
  Mutation: {
    adminGrantCredit: async (
      _: unknown,
      args: { input: { userId?: string | null; projectId?: string | null; amount: { amountMinor: string; currency: string }; reason: string } },
      ctx: BillingContext,
    ) => {
      const admin = requireAdmin(ctx);
      const { input } = args;
      const entry = await grantCredit(ctx.deps.pool, admin, {
        userId: input.userId ?? null,
        projectId: input.projectId ?? null,
        amountMinor: input.amount.amountMinor,
        currency: input.amount.currency,
        reason: input.reason,
      });
      return ledgerEntryView(entry);
    },
  },
});

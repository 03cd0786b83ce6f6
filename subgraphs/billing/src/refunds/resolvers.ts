import { NotFound } from '@gpuaas/errors';
import type { BillingContext } from '../deps.js';
import { billingResolverMap } from '../payments/resolver-map.js';
import type {
  MutationAdminApproveRefundArgs,
  MutationAdminRejectRefundArgs,
  MutationRequestRefundArgs,
  QueryAdminRefundsArgs,
  QueryRefundArgs,
  QueryRefundsArgs,
} from '../generated/resolvers-types.js';
import { requireActor, requireAdmin } from '../payments/actor.js';
import { isUuid, pageRequest, toConnection, toPage } from '../payments/pagination.js';
import { approveRefund, rejectRefund } from './decide.js';
import { findRefund, listRefunds, type RefundRecord, type RefundStatus } from './repository.js';
import { requestRefund } from './request.js';

const statusOf = (status: string | null | undefined): RefundStatus | null => (status ? (status.toLowerCase() as RefundStatus) : null);

export const toRefundNode = (record: RefundRecord) => ({
  id: record.id,
  userId: record.userId,
  walletId: record.walletId,
  paymentId: record.paymentId,
  amount: { amountMinor: record.amountMinor, currency: record.currency },
  reason: record.reason,
  state: record.status === 'succeeded' ? 'SUCCEEDED' : record.status === 'failed' || record.status === 'rejected' ? 'FAILED' : 'PENDING',
  status: record.status.toUpperCase(),
  rejectionReason: record.status === 'rejected' ? record.decisionNote : null,
  stripeRefundId: record.stripeRefundId,
  decidedBy: record.decidedBy,
  decidedAt: record.decidedAt,
  createdAt: record.createdAt,
  updatedAt: record.updatedAt,
});

/** Resolvers of schema/refunds.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const refundResolvers = billingResolverMap({
  Query: {
    refunds: async (_: unknown, args: QueryRefundsArgs, ctx: BillingContext) => {
      const actor = requireActor(ctx);
      const page = pageRequest(args.first, args.after);
      return toConnection(toPage(await listRefunds(ctx.deps.pool, { userId: actor.userId, status: statusOf(args.status) }, page, 'newest'), page), toRefundNode);
    },
    refund: async (_: unknown, { id }: QueryRefundArgs, ctx: BillingContext) => {
      const actor = requireActor(ctx);
      const found = isUuid(id) ? await findRefund(ctx.deps.pool, id, actor.userId) : undefined;
      if (!found) throw NotFound('Refund');
      return toRefundNode(found);
    },
    adminRefunds: async (_: unknown, args: QueryAdminRefundsArgs, ctx: BillingContext) => {
      requireAdmin(ctx);
      const page = pageRequest(args.first, args.after);
      return toConnection(toPage(await listRefunds(ctx.deps.pool, { userId: args.userId ?? null, status: statusOf(args.status) }, page, 'oldest'), page), toRefundNode);
    },
  },
  Mutation: {
    requestRefund: async (_: unknown, { input }: MutationRequestRefundArgs, ctx: BillingContext) =>
      toRefundNode(
        await requestRefund(ctx.deps, requireActor(ctx), {
          amountMinor: input.amount?.amountMinor ?? null,
          currency: input.amount?.currency ?? null,
          reason: input.reason ?? null,
          paymentId: input.paymentId ?? null,
          ledgerEntryId: input.ledgerEntryId ?? null,
        }),
      ),
    adminApproveRefund: async (_: unknown, { input }: MutationAdminApproveRefundArgs, ctx: BillingContext) => {
      const admin = requireAdmin(ctx);
      if (!isUuid(input.id)) throw NotFound('Refund');
      return toRefundNode(await approveRefund(ctx.deps, admin, input.id, input.note ?? null));
    },
    adminRejectRefund: async (_: unknown, { input }: MutationAdminRejectRefundArgs, ctx: BillingContext) => {
      const admin = requireAdmin(ctx);
      if (!isUuid(input.id)) throw NotFound('Refund');
      return toRefundNode(await rejectRefund(ctx.deps, admin, input.id, input.reason));
    },
  },
});

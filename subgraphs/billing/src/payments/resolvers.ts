import type { BillingContext } from '../deps.js';
import { billingResolverMap } from './resolver-map.js';
import type { MutationCreateCheckoutSessionArgs, QueryAdminPaymentSessionsArgs, QueryCheckoutSessionArgs, QueryCheckoutSessionsArgs } from '../generated/resolvers-types.js';
import { requireActor, requireAdmin } from './actor.js';
import { findCheckoutSession, listCheckoutSessions, type CheckoutSessionRecord, type CheckoutStatus } from './checkout-sessions.js';
import { createCheckoutSession } from './create-checkout.js';
import { NotFound } from '@gpuaas/errors';
import { isUuid, pageRequest, toConnection, toPage } from './pagination.js';

const money = (amountMinor: string, currency: string) => ({ amountMinor, currency });
const STATE_OF: { readonly [S in CheckoutStatus]: string } = { open: 'OPEN', complete: 'COMPLETED', expired: 'EXPIRED' };
const statusOf = (state: string | null | undefined): CheckoutStatus | null => (state ? ((Object.keys(STATE_OF) as CheckoutStatus[]).find((status) => STATE_OF[status] === state) ?? null) : null);
const dateOf = (value: unknown): Date | null => (value === null || value === undefined ? null : new Date(String(value)));

export const toCheckoutSessionNode = (record: CheckoutSessionRecord) => ({
  id: record.id,
  state: STATE_OF[record.status],
  checkoutUrl: record.url,
  walletId: record.walletId,
  projectId: record.projectId,
  stripeSessionId: record.stripeSessionId,
  url: record.status === 'open' ? record.url : null,
  amount: money(record.amountMinor, record.currency),
  refundableAmount: money(record.refundableMinor, record.currency),
  expiresAt: record.expiresAt,
  completedAt: record.completedAt,
  createdAt: record.createdAt,
});

const toAdminPaymentSessionNode = (record: CheckoutSessionRecord) => ({
  id: record.id,
  userId: record.userId,
  walletId: record.walletId,
  projectId: record.projectId,
  stripeSessionId: record.stripeSessionId,
  stripePaymentIntentId: record.stripePaymentIntentId,
  stripeEventId: record.stripeEventId,
  state: STATE_OF[record.status],
  amount: money(record.amountMinor, record.currency),
  amountRefunded: money(record.refundedMinor, record.currency),
  expiresAt: record.expiresAt,
  completedAt: record.completedAt,
  createdAt: record.createdAt,
});

/** Resolvers of schema/payments.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const paymentResolvers = billingResolverMap({
  Query: {
    checkoutSessions: async (_: unknown, args: QueryCheckoutSessionsArgs, ctx: BillingContext) => {
      const actor = requireActor(ctx);
      const page = pageRequest(args.first, args.after);
      const rows = await listCheckoutSessions(ctx.deps.pool, ctx.deps.config.policies.refund_window_days, { userId: actor.userId, status: statusOf(args.state), from: null, to: null }, page);
      return toConnection(toPage(rows, page), toCheckoutSessionNode);
    },
    checkoutSession: async (_: unknown, { id }: QueryCheckoutSessionArgs, ctx: BillingContext) => {
      const actor = requireActor(ctx);
      const found = isUuid(id) ? await findCheckoutSession(ctx.deps.pool, ctx.deps.config.policies.refund_window_days, id, actor.userId) : undefined;
      if (!found) throw NotFound('Checkout session');
      return toCheckoutSessionNode(found);
    },
    adminPaymentSessions: async (_: unknown, args: QueryAdminPaymentSessionsArgs, ctx: BillingContext) => {
      requireAdmin(ctx);
      const page = pageRequest(args.first, args.after);
      const rows = await listCheckoutSessions(
        ctx.deps.pool,
        ctx.deps.config.policies.refund_window_days,
        { userId: args.userId ?? null, status: statusOf(args.state), from: dateOf(args.from), to: dateOf(args.to) },
        page,
      );
      return toConnection(toPage(rows, page), toAdminPaymentSessionNode);
    },
  },
  Mutation: {
    createCheckoutSession: async (_: unknown, { input }: MutationCreateCheckoutSessionArgs, ctx: BillingContext) =>
      toCheckoutSessionNode(
        await createCheckoutSession(ctx.deps, requireActor(ctx), {
          amountMinor: input.amount.amountMinor,
          currency: input.amount.currency,
          projectId: input.projectId ?? null,
          successUrl: input.successUrl ?? null,
          cancelUrl: input.cancelUrl ?? null,
        }),
      ),
  },
});

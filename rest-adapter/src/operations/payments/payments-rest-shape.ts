import type { OperationContext, OperationResult } from '../registry.js';
import { pageQuery, type VariablesOf } from '../graphql-operation.js';

type Json = Record<string, unknown>;

interface Money {
  amountMinor: string;
  currency: string;
}

/** int64 amounts travel as strings in GraphQL; REST carries JSON integers (exact up to 2^53). */
const money = (value: Money) => ({ amountMinor: Number(value.amountMinor), currency: value.currency });

/** Every Money field of a checkout session, payment session or refund becomes a JSON integer amount. */
const MONEY_FIELDS = ['amount', 'refundableAmount', 'amountRefunded'];

/** GraphQL's CheckoutSessionState (decoded to lower case) ↔ REST's CheckoutSessionStatus. */
const CHECKOUT_STATUS_OF: Readonly<Record<string, string>> = { open: 'open', completed: 'complete', expired: 'expired' };
const CHECKOUT_STATE_OF: Readonly<Record<string, string>> = { open: 'open', complete: 'completed', expired: 'expired' };

/** Money fields become JSON integer amounts; a checkout session's `state` becomes REST's `status`. */
export function restMoneyShape(node: Json): Json {
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => {
      if (key === 'state') return ['status', CHECKOUT_STATUS_OF[String(value)] ?? value];
      return [key, MONEY_FIELDS.includes(key) && value ? money(value as Money) : value];
    }),
  );
}

/** REST's `status` filter of checkout sessions as GraphQL's `state`, plus page arguments and the named filters. */
export const checkoutSessionFilters =
  (...filters: readonly string[]): VariablesOf =>
  (ctx: OperationContext) => {
    const status = ctx.query['status'];
    return {
      ...pageQuery(...filters)(ctx),
      ...(typeof status === 'string' ? { state: CHECKOUT_STATE_OF[status] ?? status } : {}),
    };
  };

/** The root field's object as the REST body. */
export const objectAt =
  (field: string, status = 200) =>
  (data: Json): OperationResult => ({ status, body: restMoneyShape(data[field] as Json) });

/** A connection as `{data, next_cursor}`. */
export const pageAt =
  (field: string) =>
  (data: Json): OperationResult => {
    const connection = data[field] as { edges: { node: Json }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    return {
      status: 200,
      body: { data: connection.edges.map((edge) => restMoneyShape(edge.node)), nextCursor: connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null },
    };
  };

/** The body as `input`, its `amount.amount_minor` as the GraphQL int64 string, plus path parameters. */
export const moneyInput =
  (pathParameters: Readonly<Record<string, string>> = {}): VariablesOf =>
  (ctx: OperationContext) => {
    const body = (typeof ctx.body === 'object' && ctx.body !== null ? ctx.body : {}) as Json;
    const amount = body['amount'] as Json | undefined;
    return {
      input: {
        ...body,
        ...(amount ? { amount: { ...amount, amount_minor: String(amount['amount_minor']) } } : {}),
        ...Object.fromEntries(Object.entries(pathParameters).map(([name, parameter]) => [name, ctx.params[parameter]])),
      },
    };
  };

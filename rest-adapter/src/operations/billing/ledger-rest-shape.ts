import { toPage, type Connection } from '../../graphql/connections.js';
import type { Responder } from '../graphql-operation.js';

type Json = Record<string, unknown>;
interface Money {
  amountMinor: string;
  currency: string;
}

/** GraphQL carries int64 money as a string; the REST contract's `amount_minor` is an integer. */
export const restMoney = (value: Money) => ({ amountMinor: Number(value.amountMinor), currency: value.currency });

export const restLedgerEntry = (node: Json) => ({
  ...node,
  amount: restMoney(node['amount'] as Money),
  balanceAfter: restMoney(node['balanceAfter'] as Money),
});

/** A ledger connection at `data[name]` as `{data, next_cursor}` with REST money. */
export const ledgerPage =
  (name: string): Responder =>
  (data) => {
    const page = toPage(data[name] as Connection<Json>);
    return { status: 200, body: { ...page, data: page.data.map(restLedgerEntry) } };
  };

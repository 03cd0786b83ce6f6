import type { OperationHandlers } from '../registry.js';
import { documentsBeside, graphqlOperation, pageQuery, pick } from '../graphql-operation.js';
import { ledgerPage, restMoney } from './ledger-rest-shape.js';

const doc = documentsBeside(import.meta.url);
type Json = Record<string, unknown>;
type Money = Parameters<typeof restMoney>[0];

/** Balance, burn rate and runway, usage and the ledger under /api/v1/billing. */
export const ledgerHandlers = {
  getBillingBalance: graphqlOperation({
    document: doc('get-billing-balance'),
    variables: (ctx) => pick(ctx.query, ['project_id']),
    respond: (data) => {
      const balance = data['billingBalance'] as Json;
      return { status: 200, body: { ...balance, balance: restMoney(balance['balance'] as Money), burnRatePerHour: restMoney(balance['burnRatePerHour'] as Money) } };
    },
  }),
  getBillingUsage: graphqlOperation({
    document: doc('get-billing-usage'),
    variables: (ctx) => pick(ctx.query, ['from', 'to', 'group_by', 'project_id']),
    respond: (data) => {
      const report = data['billingUsage'] as { rows: Json[]; totals: Json } & Json;
      return {
        status: 200,
        body: {
          ...report,
          rows: report.rows.map((row) => ({ ...row, amount: restMoney(row['amount'] as Money) })),
          totals: { ...report.totals, amount: restMoney(report.totals['amount'] as Money) },
        },
      };
    },
  }),
  listLedgerEntries: graphqlOperation({
    document: doc('list-ledger-entries'),
    variables: pageQuery('project_id', 'kind', 'from', 'to'),
    respond: ledgerPage('ledgerEntries'),
  }),
} satisfies OperationHandlers;

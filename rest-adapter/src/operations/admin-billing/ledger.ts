import type { OperationHandlers } from '../registry.js';
import { documentsBeside, graphqlOperation, pageQuery } from '../graphql-operation.js';
import { ledgerPage, restLedgerEntry } from '../billing/ledger-rest-shape.js';

const doc = documentsBeside(import.meta.url);
type Json = Record<string, unknown>;

/** Operators' ledger view and credit grants under /api/v1/admin/billing. */
export const adminLedgerHandlers = {
  adminListLedgerEntries: graphqlOperation({
    document: doc('admin-list-ledger-entries'),
    variables: pageQuery('user_id', 'project_id', 'kind'),
    respond: ledgerPage('adminLedgerEntries'),
  }),
  adminGrantCredit: graphqlOperation({
    document: doc('admin-grant-credit'),
    // GraphQL's MoneyInput carries the int64 as a string.
    variables: (ctx) => {
      const body = (ctx.body ?? {}) as Json;
      const amount = (body['amount'] ?? {}) as Json;
      return { input: { ...body, amount: { ...amount, amount_minor: String(amount['amount_minor']) } } };
    },
    respond: (data) => ({ status: 201, body: restLedgerEntry(data['adminGrantCredit'] as Json) }),
  }),
} satisfies OperationHandlers;

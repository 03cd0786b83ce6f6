import { byId, documentsBeside, graphqlOperation, pageQuery } from '../graphql-operation.js';
import { moneyInput, objectAt, pageAt } from '../payments/payments-rest-shape.js';
import type { OperationHandlers } from '../registry.js';

const doc = documentsBeside(import.meta.url);

/** Users' refund requests under /api/v1/billing/refunds. */
export const refundHandlers = {
  requestRefund: graphqlOperation({ document: doc('request-refund'), variables: moneyInput(), respond: objectAt('requestRefund', 201) }),
  listRefunds: graphqlOperation({ document: doc('list-refunds'), variables: pageQuery('status'), respond: pageAt('refunds') }),
  getRefund: graphqlOperation({ document: doc('get-refund'), variables: byId, respond: objectAt('refund') }),
} satisfies OperationHandlers;

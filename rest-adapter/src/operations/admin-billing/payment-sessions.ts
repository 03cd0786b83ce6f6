import { documentsBeside, graphqlOperation } from '../graphql-operation.js';
import { checkoutSessionFilters, pageAt } from '../payments/payments-rest-shape.js';
import type { OperationHandlers } from '../registry.js';

const doc = documentsBeside(import.meta.url);

/** Operators' list of checkout sessions (/api/v1/admin/payment-sessions). */
export const adminPaymentSessionHandlers = {
  adminListPaymentSessions: graphqlOperation({
    document: doc('admin-list-payment-sessions'),
    variables: checkoutSessionFilters('user_id', 'from', 'to'),
    respond: pageAt('adminPaymentSessions'),
  }),
} satisfies OperationHandlers;

import { documentsBeside, graphqlOperation, inputFrom, pageQuery } from '../graphql-operation.js';
import { objectAt, pageAt } from '../payments/payments-rest-shape.js';
import type { OperationHandlers } from '../registry.js';

const doc = documentsBeside(import.meta.url);

/** Operators' refund review under /api/v1/admin/refunds (both decisions are audited by the billing domain). */
export const adminRefundHandlers = {
  adminListRefunds: graphqlOperation({ document: doc('admin-list-refunds'), variables: pageQuery('status', 'user_id'), respond: pageAt('adminRefunds') }),
  adminApproveRefund: graphqlOperation({ document: doc('admin-approve-refund'), variables: inputFrom({ id: 'id' }), respond: objectAt('adminApproveRefund') }),
  adminRejectRefund: graphqlOperation({ document: doc('admin-reject-refund'), variables: inputFrom({ id: 'id' }), respond: objectAt('adminRejectRefund') }),
} satisfies OperationHandlers;

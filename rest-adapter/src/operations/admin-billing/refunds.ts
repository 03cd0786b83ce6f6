import type { OperationHandlers } from '../registry.js';

/** Operators' refund review under /api/v1/admin/refunds. */
export const adminRefundHandlers = {} satisfies OperationHandlers;

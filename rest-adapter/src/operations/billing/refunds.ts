import type { OperationHandlers } from '../registry.js';

/** Users' refund requests under /api/v1/billing/refunds. */
export const refundHandlers = {} satisfies OperationHandlers;

import type { OperationHandlers } from '../registry.js';

/** Operators' list of checkout sessions (/api/v1/admin/payment-sessions). */
export const adminPaymentSessionHandlers = {} satisfies OperationHandlers;

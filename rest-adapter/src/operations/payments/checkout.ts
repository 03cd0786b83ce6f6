import type { OperationHandlers } from '../registry.js';

/** Stripe Checkout top-ups under /api/v1/payments/checkout. */
export const checkoutHandlers = {} satisfies OperationHandlers;

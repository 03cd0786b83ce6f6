import type { OperationHandlers } from '../registry.js';

/** Balance, burn rate and runway, usage and the ledger under /api/v1/billing. */
export const ledgerHandlers = {} satisfies OperationHandlers;

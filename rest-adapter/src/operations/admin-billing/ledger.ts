import type { OperationHandlers } from '../registry.js';

/** Operators' ledger view and credit grants under /api/v1/admin/billing. */
export const adminLedgerHandlers = {} satisfies OperationHandlers;

import type { OperationHandlers } from '../registry.js';

/** Operators' node management under /api/v1/admin/nodes. */
export const adminNodeHandlers = {} satisfies OperationHandlers;

import type { OperationHandlers } from '../registry.js';

/** Operators' view of every allocation and force release under /api/v1/admin/allocations. */
export const adminAllocationHandlers = {} satisfies OperationHandlers;

import type { OperationHandlers } from '../registry.js';

/** The v3 read views of allocations (/api/v3/compute/allocations). */
export const v3AllocationHandlers = {} satisfies OperationHandlers;

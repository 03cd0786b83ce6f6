import type { OperationHandlers } from '../registry.js';

/** Allocations under /api/v1/allocations (create, list, get, rename, release). */
export const allocationHandlers = {} satisfies OperationHandlers;

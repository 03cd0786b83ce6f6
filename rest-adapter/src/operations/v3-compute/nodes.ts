import type { OperationHandlers } from '../registry.js';

/** The v3 read views of nodes (/api/v3/compute/nodes). */
export const v3NodeHandlers = {} satisfies OperationHandlers;

import type { OperationHandlers } from '../registry.js';
import { adminAllocationHandlers } from './allocations.js';
import { adminNodeHandlers } from './nodes.js';

/** /api/v1/admin/{nodes,allocations}*. */
export const adminComputeHandlers: OperationHandlers = { ...adminNodeHandlers, ...adminAllocationHandlers };

import type { OperationHandlers } from '../registry.js';
import { v3AllocationHandlers } from './allocations.js';
import { v3NodeHandlers } from './nodes.js';

/** /api/v3/compute/*. */
export const v3ComputeHandlers: OperationHandlers = { ...v3NodeHandlers, ...v3AllocationHandlers };

import type { OperationHandlers } from '../registry.js';

/** Operators' OS image management under /api/v1/admin/os-images. */
export const adminOsImageHandlers = {} satisfies OperationHandlers;

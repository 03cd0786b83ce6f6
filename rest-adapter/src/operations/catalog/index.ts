import type { OperationHandlers } from '../registry.js';

/** The public catalog: GPUs, regions and OS images under /api/v1/catalog. */
export const catalogHandlers = {} satisfies OperationHandlers;

import type { OperationHandlers } from '../registry.js';

/** The v3 read views of OS images (/api/v3/platform/os-images). */
export const v3OsImageHandlers = {} satisfies OperationHandlers;

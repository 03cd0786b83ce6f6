import type { OperationHandlers } from '../registry.js';

/** Browser terminal tokens (POST /api/v1/allocations/{id}/terminal-token). */
export const terminalHandlers = {} satisfies OperationHandlers;

import type { OperationHandlers } from '../registry.js';
import { allocationHandlers } from './allocations.js';
import { telemetryHandlers } from './telemetry.js';
import { terminalHandlers } from './terminal.js';

/** Every `compute`-tagged operation under /api/v1 except the catalog (its own group). */
export const computeHandlers: OperationHandlers = { ...allocationHandlers, ...telemetryHandlers, ...terminalHandlers };

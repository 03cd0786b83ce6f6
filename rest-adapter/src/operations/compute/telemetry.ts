import type { OperationHandlers } from '../registry.js';

/** Guest telemetry of an allocation (GET /api/v1/allocations/{id}/telemetry). */
export const telemetryHandlers = {} satisfies OperationHandlers;

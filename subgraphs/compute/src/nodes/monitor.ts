import { deleteExpiredTelemetry } from '../telemetry/ingest.js';
import { finishDrainedNodes, markSilentNodesOffline, type NodeMonitorDeps } from './offline.js';

export interface NodeMonitorTick {
  readonly offline: string[];
  readonly cordoned: string[];
  /** Telemetry rows deleted; null when this tick did not sweep. */
  readonly telemetryDeleted: number | null;
}

/**
 * One pass of the node monitor: silent nodes go offline (their live allocations lost), drained nodes become cordoned,
 * and, when asked, expired telemetry is deleted. Safe to run from several replicas at once (SKIP LOCKED, idempotent
 * updates and deletes).
 */
export async function runNodeMonitorTick(
  deps: NodeMonitorDeps,
  correlationId: string,
  sweepTelemetry: boolean,
  options: { readonly judgeSilence?: boolean } = {},
): Promise<NodeMonitorTick> {
  const offline = options.judgeSilence === false ? [] : await markSilentNodesOffline(deps, correlationId);
  const cordoned = await finishDrainedNodes(deps);
  const telemetryDeleted = sweepTelemetry ? await deleteExpiredTelemetry(deps) : null;
  return { offline, cordoned, telemetryDeleted };
}

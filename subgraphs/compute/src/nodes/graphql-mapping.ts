import { Validation } from '@gpuaas/errors';
import type { AllocationState, ComputeNodeState } from '../generated/resolvers-types.js';
import type { NodeLiveAllocation, NodeState, NodeView } from './node-views.js';
import type { SliceTopologyView } from './topology.js';
import type { NodeTask } from './tasks.js';

export const DEFAULT_NODE_PAGE_SIZE = 50;
export const MAX_NODE_PAGE_SIZE = 200;

export const toNodeStateName = (state: ComputeNodeState): NodeState => state.toLowerCase() as NodeState;

/**
 * The GraphQL ComputeNode's own columns; `sliceTopology` and `liveAllocations` are field resolvers (batched per
 * request) so a list that does not ask for them costs nothing.
 */
export function toComputeNode(view: NodeView) {
  return {
    id: view.id,
    hostname: view.hostname,
    region: view.regionDetail,
    state: view.state.toUpperCase() as ComputeNodeState,
    stateReason: view.stateReason,
    labels: view.labels,
    gpus: view.gpus.map((gpu) => ({ ...gpu, memoryBytes: String(gpu.memoryBytes), migMode: gpu.migMode === 'enabled' ? 'ENABLED' as const : 'DISABLED' as const })),
    slots: view.slots,
    liveAllocationCount: view.liveAllocationCount,
    lastHeartbeatAt: view.lastHeartbeatAt,
    agentVersion: view.agentVersion,
    credential: {
      status: view.credential.status.toUpperCase() as 'AWAITING_REGISTRATION' | 'ACTIVE' | 'REVOKED',
      issuedAt: view.credential.issuedAt,
      revokedAt: view.credential.revokedAt,
      bootstrapTokenExpiresAt: view.credential.bootstrapTokenExpiresAt,
    },
    registeredAt: view.registeredAt,
    topologyDiscoveredAt: view.topologyDiscoveredAt,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}

export type ComputeNodeParent = ReturnType<typeof toComputeNode>;

export function toSliceTopology(view: SliceTopologyView) {
  return {
    nodeId: view.nodeId,
    discoveredAt: view.discoveredAt,
    gpus: view.gpus.map((gpu) => ({
      ...gpu,
      memoryBytes: String(gpu.memoryBytes),
      migMode: gpu.migMode === 'enabled' ? ('ENABLED' as const) : ('DISABLED' as const),
    })),
  };
}

export function toNodeLiveAllocation(allocation: NodeLiveAllocation) {
  return { ...allocation, state: allocation.state.toUpperCase() as AllocationState };
}

export function toTaskAccepted(task: NodeTask) {
  return {
    taskId: task.id,
    nodeId: task.nodeId,
    // The contract's name for the stored `discover_topology`.
    kind: 'discover_slice_topology',
    state: task.state === 'leased' ? ('LEASED' as const) : ('QUEUED' as const),
    queuedAt: task.createdAt,
  };
}

export interface NodeCursor {
  readonly hostname: string;
  readonly id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque to clients (base64url JSON of the last row's sort key: hostname, id). */
export function encodeNodeCursor(key: NodeCursor): string {
  return Buffer.from(JSON.stringify({ h: key.hostname, i: key.id }), 'utf8').toString('base64url');
}

function decodeNodeCursor(cursor: string): NodeCursor | null {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const { h, i } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof h !== 'string' || typeof i !== 'string' || !UUID.test(i)) return null;
    return { hostname: h, id: i };
  } catch {
    return null;
  }
}

/** Validates `first`/`after`; problems are named like the REST query parameters they mirror. */
export function nodePageRequest(first: number | null | undefined, after: string | null | undefined): { limit: number; after?: NodeCursor } {
  const limit = first ?? DEFAULT_NODE_PAGE_SIZE;
  const issues = [];
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_NODE_PAGE_SIZE) {
    issues.push({ field: 'query.limit', message: `must be an integer from 1 to ${MAX_NODE_PAGE_SIZE}` });
  }
  const key = after === null || after === undefined ? undefined : decodeNodeCursor(after);
  if (key === null) issues.push({ field: 'query.cursor', message: 'is not a cursor this listing issued' });
  if (issues.length > 0) throw Validation(issues);
  return key ? { limit, after: key } : { limit };
}

/** `rows` holds up to limit + 1 views; the extra one only says whether another page exists. */
export function toNodeConnection(rows: readonly NodeView[], limit: number) {
  const page = rows.slice(0, limit);
  const edges = page.map((view) => ({ node: toComputeNode(view), cursor: encodeNodeCursor(view) }));
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}

/** The released API's NodeConnection (same order and cursor as the admin listing). */
export function toLegacyConnection<T extends NodeCursor>(rows: readonly T[], limit: number) {
  const page = rows.slice(0, limit);
  const edges = page.map((node) => ({ node, cursor: encodeNodeCursor(node) }));
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}

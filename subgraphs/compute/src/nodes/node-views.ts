import type { Db } from './db.js';

export type NodeState = 'pending' | 'active' | 'cordoned' | 'draining' | 'offline' | 'retired';
export type CredentialStatus = 'awaiting_registration' | 'active' | 'revoked';

export interface NodeGpuView {
  readonly uuid: string;
  readonly index: number;
  /** The catalog model code, or a slug of the reported name while no catalog model matches it. */
  readonly model: string;
  readonly memoryBytes: number;
  readonly migMode: 'enabled' | 'disabled';
}

/** The operators' picture of a node (AdminNode in the contract). */
export interface NodeView {
  readonly id: string;
  readonly hostname: string;
  /** The region's code. */
  readonly region: string;
  readonly regionDetail: { id: string; code: string; name: string; location: string };
  readonly state: NodeState;
  readonly stateReason: string | null;
  readonly labels: Record<string, string>;
  readonly gpus: NodeGpuView[];
  readonly slots: { total: number; free: number; used: number };
  readonly liveAllocationCount: number;
  readonly lastHeartbeatAt: Date | null;
  readonly agentVersion: string | null;
  readonly credential: { status: CredentialStatus; issuedAt: Date | null; revokedAt: Date | null; bootstrapTokenExpiresAt: Date | null };
  readonly registeredAt: Date | null;
  readonly topologyDiscoveredAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface NodeViewRow {
  id: string;
  hostname: string;
  region: string;
  region_id: string;
  region_name: string;
  region_location: string;
  state: NodeState;
  state_reason: string | null;
  labels: Record<string, string>;
  gpus: Array<{ uuid: string; index: number; model: string; memory_bytes: string | number; mig_mode: string }>;
  slots_total: number;
  slots_used: number;
  slots_free: number;
  live_allocation_count: number;
  last_heartbeat_at: Date | null;
  agent_version: string | null;
  credential_hash: string | null;
  credential_issued_at: Date | null;
  credential_revoked_at: Date | null;
  bootstrap_token_hash: string | null;
  bootstrap_token_expires_at: Date | null;
  bootstrap_token_used_at: Date | null;
  registered_at: Date | null;
  topology_discovered_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const LIVE = `('requested', 'provisioning', 'active', 'releasing')`;

/** One row per node with its GPUs and counts; callers add WHERE/ORDER BY over alias `n` (and `r` for the region). */
export const NODE_VIEW_SELECT = `
SELECT n.id, n.hostname, r.code AS region, r.id AS region_id, r.name AS region_name, r.location AS region_location,
       n.state, n.state_reason, n.labels, n.last_heartbeat_at, n.agent_version,
       n.credential_hash, n.credential_issued_at, n.credential_revoked_at, n.bootstrap_token_hash,
       n.bootstrap_token_expires_at, n.bootstrap_token_used_at, n.registered_at, n.topology_discovered_at, n.created_at, n.updated_at,
       COALESCE((SELECT json_agg(json_build_object(
                  'uuid', g.gpu_uuid, 'index', g.device_index,
                  'model', COALESCE(m.code, trim(both '-' from regexp_replace(lower(g.model), '[^a-z0-9]+', '-', 'g'))),
                  'memory_bytes', g.memory_bytes, 'mig_mode', g.mig_mode) ORDER BY g.device_index)
                 FROM compute.node_gpus g LEFT JOIN compute.gpu_models m ON m.id = g.gpu_model_id
                 WHERE g.node_id = n.id), '[]'::json) AS gpus,
       counts.total::int AS slots_total, counts.used::int AS slots_used,
       CASE WHEN n.state = 'active' THEN counts.free_enabled ELSE 0 END::int AS slots_free,
       (SELECT count(*) FROM compute.allocations a WHERE a.node_id = n.id AND a.state IN ${LIVE})::int AS live_allocation_count
FROM compute.nodes n
JOIN compute.regions r ON r.id = n.region_id
CROSS JOIN LATERAL (
  SELECT count(*) AS total,
         count(*) FILTER (WHERE held.id IS NOT NULL) AS used,
         count(*) FILTER (WHERE held.id IS NULL AND s.state = 'free') AS free_enabled
  FROM compute.slots s
  LEFT JOIN LATERAL (SELECT a.id FROM compute.allocations a WHERE a.slot_id = s.id AND a.state IN ${LIVE} LIMIT 1) held ON true
  WHERE s.node_id = n.id
) counts`;

export function toNodeView(row: NodeViewRow): NodeView {
  const bootstrapOutstanding = row.bootstrap_token_hash !== null && row.bootstrap_token_used_at === null;
  const status: CredentialStatus =
    row.credential_hash !== null && row.credential_revoked_at === null
      ? 'active'
      : row.credential_revoked_at !== null && !bootstrapOutstanding
        ? 'revoked'
        : 'awaiting_registration';
  return {
    id: row.id,
    hostname: row.hostname,
    region: row.region,
    regionDetail: { id: row.region_id, code: row.region, name: row.region_name, location: row.region_location },
    state: row.state,
    stateReason: row.state_reason,
    labels: row.labels,
    gpus: row.gpus.map((gpu) => ({
      uuid: gpu.uuid,
      index: gpu.index,
      model: gpu.model,
      memoryBytes: Number(gpu.memory_bytes),
      migMode: gpu.mig_mode === 'enabled' ? 'enabled' : 'disabled',
    })),
    slots: { total: row.slots_total, used: row.slots_used, free: row.slots_free },
    liveAllocationCount: row.live_allocation_count,
    lastHeartbeatAt: row.last_heartbeat_at,
    agentVersion: row.agent_version,
    credential: {
      status,
      issuedAt: row.credential_issued_at,
      revokedAt: row.credential_revoked_at,
      bootstrapTokenExpiresAt: bootstrapOutstanding ? row.bootstrap_token_expires_at : null,
    },
    registeredAt: row.registered_at,
    topologyDiscoveredAt: row.topology_discovered_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function findNodeView(db: Db, nodeId: string): Promise<NodeView | undefined> {
  const { rows } = await db.query<NodeViewRow>(`${NODE_VIEW_SELECT} WHERE n.id = $1`, [nodeId]);
  return rows[0] ? toNodeView(rows[0]) : undefined;
}

export interface NodeListFilter {
  readonly states?: readonly NodeState[];
  readonly region?: string;
}

/** Ordered by hostname then id (the contract's order); `after` is the last row's (hostname, id). */
export async function listNodeViews(
  db: Db,
  filter: NodeListFilter,
  page: { limit: number; after?: { hostname: string; id: string } },
): Promise<NodeView[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (filter.states && filter.states.length > 0) {
    values.push(filter.states);
    where.push(`n.state = ANY ($${values.length}::text[])`);
  }
  if (filter.region) {
    values.push(filter.region);
    where.push(`r.code = $${values.length}`);
  }
  if (page.after) {
    values.push(page.after.hostname, page.after.id);
    where.push(`(n.hostname, n.id) > ($${values.length - 1}, $${values.length}::uuid)`);
  }
  values.push(page.limit);
  const sql = `${NODE_VIEW_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n.hostname, n.id LIMIT $${values.length}`;
  const { rows } = await db.query<NodeViewRow>(sql, values);
  return rows.map(toNodeView);
}

/** A live allocation on a node, as the operators' node view lists it. */
export interface NodeLiveAllocation {
  readonly id: string;
  readonly projectId: string;
  readonly name: string | null;
  readonly state: 'requested' | 'provisioning' | 'active' | 'releasing';
  readonly profile: string;
  readonly slotId: string;
  readonly activeAt: Date | null;
}

/** Live allocations of several nodes in one query, oldest first per node. */
export async function liveAllocationsOfNodes(db: Db, nodeIds: readonly string[]): Promise<Map<string, NodeLiveAllocation[]>> {
  const byNode = new Map<string, NodeLiveAllocation[]>(nodeIds.map((id) => [id, []]));
  if (nodeIds.length === 0) return byNode;
  const { rows } = await db.query<{
    node_id: string; id: string; project_id: string; name: string | null; state: NodeLiveAllocation['state'];
    profile: string; slot_id: string; active_at: Date | null;
  }>(
    `SELECT a.node_id, a.id, a.project_id, a.name, a.state, p.name AS profile, a.slot_id, a.active_at
     FROM compute.allocations a JOIN compute.slice_profiles p ON p.id = a.profile_id
     WHERE a.node_id = ANY ($1::uuid[]) AND a.state IN ${LIVE} AND a.slot_id IS NOT NULL
     ORDER BY a.node_id, a.created_at, a.id`,
    [nodeIds],
  );
  for (const row of rows) {
    byNode.get(row.node_id)?.push({
      id: row.id, projectId: row.project_id, name: row.name, state: row.state, profile: row.profile, slotId: row.slot_id, activeAt: row.active_at,
    });
  }
  return byNode;
}

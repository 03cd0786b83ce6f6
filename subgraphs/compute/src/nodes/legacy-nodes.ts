import type { Db } from './db.js';
import type { NodeState } from './node-views.js';

/**
 * The first released GraphQL API's node (`Query.node/nodes`, `Mutation.adminDrainNode`), kept because the released
 * contract is frozen. It knew registered nodes of one GPU model only: a node shows here once it is registered with at
 * least one catalogued card (pending and retired nodes never do), its state folded into ONLINE/DRAINING/OFFLINE.
 */
export type LegacyNodeState = 'ONLINE' | 'DRAINING' | 'OFFLINE';

export interface LegacyNodeView {
  readonly id: string;
  readonly hostname: string;
  readonly regionId: string;
  readonly state: LegacyNodeState;
  readonly gpuModelId: string;
  readonly gpuCount: number;
  readonly lastHeartbeatAt: Date | null;
  readonly createdAt: Date;
}

const STATES_OF: Record<LegacyNodeState, readonly NodeState[]> = {
  ONLINE: ['active'],
  DRAINING: ['cordoned', 'draining'],
  OFFLINE: ['offline'],
};

export function toLegacyState(state: NodeState): LegacyNodeState {
  return state === 'active' ? 'ONLINE' : state === 'offline' ? 'OFFLINE' : 'DRAINING';
}

const SELECT = `
SELECT n.id, n.hostname, n.region_id, n.state, n.last_heartbeat_at, n.created_at, g.gpu_model_id, g.gpu_count
FROM compute.nodes n
JOIN LATERAL (
  SELECT (array_agg(ng.gpu_model_id ORDER BY ng.device_index) FILTER (WHERE ng.gpu_model_id IS NOT NULL))[1] AS gpu_model_id,
         count(*)::int AS gpu_count
  FROM compute.node_gpus ng WHERE ng.node_id = n.id
) g ON g.gpu_model_id IS NOT NULL
WHERE n.state IN ('active', 'cordoned', 'draining', 'offline')`;

interface LegacyRow {
  id: string;
  hostname: string;
  region_id: string;
  state: NodeState;
  last_heartbeat_at: Date | null;
  created_at: Date;
  gpu_model_id: string;
  gpu_count: number;
}

const toView = (row: LegacyRow): LegacyNodeView => ({
  id: row.id,
  hostname: row.hostname,
  regionId: row.region_id,
  state: toLegacyState(row.state),
  gpuModelId: row.gpu_model_id,
  gpuCount: row.gpu_count,
  lastHeartbeatAt: row.last_heartbeat_at,
  createdAt: row.created_at,
});

export async function findLegacyNode(db: Db, nodeId: string): Promise<LegacyNodeView | undefined> {
  const { rows } = await db.query<LegacyRow>(`${SELECT} AND n.id = $1`, [nodeId]);
  return rows[0] ? toView(rows[0]) : undefined;
}

/** Ordered by hostname then id, like the admin listing; `after` is the last row's (hostname, id). */
export async function listLegacyNodes(
  db: Db,
  filter: { regionId?: string; state?: LegacyNodeState },
  page: { limit: number; after?: { hostname: string; id: string } },
): Promise<LegacyNodeView[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (filter.regionId) {
    values.push(filter.regionId);
    where.push(`n.region_id = $${values.length}`);
  }
  if (filter.state) {
    values.push(STATES_OF[filter.state]);
    where.push(`n.state = ANY ($${values.length}::text[])`);
  }
  if (page.after) {
    values.push(page.after.hostname, page.after.id);
    where.push(`(n.hostname, n.id) > ($${values.length - 1}, $${values.length}::uuid)`);
  }
  values.push(page.limit);
  const { rows } = await db.query<LegacyRow>(
    `${SELECT} ${where.map((clause) => `AND ${clause}`).join(' ')} ORDER BY n.hostname, n.id LIMIT $${values.length}`,
    values,
  );
  return rows.map(toView);
}

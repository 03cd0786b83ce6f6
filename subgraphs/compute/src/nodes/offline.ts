import { withTransaction } from '@gpuaas/db';
import type pg from 'pg';
import type { Policies } from '@gpuaas/config';
import type { NatsConnection } from '@gpuaas/events';
import { signalNodeChanged } from './admin-nodes.js';
import { markNodeAllocationsLost } from './lost-allocations.js';

/** What the node monitor needs (ComputeDeps fits; so does a worker's context). */
export interface NodeMonitorDeps {
  readonly pool: pg.Pool;
  readonly nats: NatsConnection;
  readonly config: { readonly natsNamespace: string; readonly policies: Pick<Policies, 'node_heartbeat_timeout_seconds' | 'telemetry_retention_days'> };
}

/**
 * Marks nodes offline whose last heartbeat is older than `node_heartbeat_timeout_seconds`, one transaction per
 * node (SKIP LOCKED, so several monitors share the work), and their live allocations lost. Returns the node ids.
 */
export async function markSilentNodesOffline(deps: NodeMonitorDeps, correlationId: string, batch = 100): Promise<string[]> {
  const marked: string[] = [];
  for (let i = 0; i < batch; i += 1) {
    const nodeId = await withTransaction(deps.pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `SELECT id FROM compute.nodes
         WHERE state IN ('active', 'cordoned', 'draining')
           AND last_heartbeat_at < now() - make_interval(secs => $1)
         ORDER BY last_heartbeat_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [deps.config.policies.node_heartbeat_timeout_seconds],
      );
      const node = rows[0];
      if (!node) return undefined;
      await client.query(
        `UPDATE compute.nodes SET state_before_offline = state, state = 'offline',
           state_reason = 'No heartbeat within the timeout', updated_at = now() WHERE id = $1`,
        [node.id],
      );
      await markNodeAllocationsLost(client, { nodeId: node.id, reason: 'The node went offline', correlationId });
      return node.id;
    });
    if (!nodeId) break;
    signalNodeChanged(deps, nodeId);
    marked.push(nodeId);
  }
  return marked;
}

/** Becomes cordoned once drained: a draining node without live allocations (heartbeats also do this). */
export async function finishDrainedNodes(deps: NodeMonitorDeps): Promise<string[]> {
  const { rows } = await deps.pool.query<{ id: string }>(
    `UPDATE compute.nodes n SET state = 'cordoned', updated_at = now()
     WHERE n.state = 'draining' AND NOT EXISTS (SELECT 1 FROM compute.allocations a WHERE a.node_id = n.id
       AND a.state IN ('requested', 'provisioning', 'active', 'releasing'))
     RETURNING n.id`,
  );
  for (const row of rows) signalNodeChanged(deps, row.id);
  return rows.map((row) => row.id);
}

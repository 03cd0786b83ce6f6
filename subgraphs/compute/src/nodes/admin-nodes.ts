import type pg from 'pg';
import { recordAudit, uuidv7, withTransaction } from '@gpuaas/db';
import { AppError, NotFound } from '@gpuaas/errors';
import type { ComputeDeps } from '../deps.js';
import { publishLive, liveNodeSubject } from '../live/signals.js';
import { findNodeView, type NodeState, type NodeView } from './node-views.js';
import { findOpenNodeTask, queueNodeTask, wakeNode, type NodeTask, type WakeDeps } from './tasks.js';
import { newBootstrapToken, sha256Hex } from './tokens.js';

/** How long a bootstrap token may wait to be exchanged. */
export const BOOTSTRAP_TOKEN_TTL_SECONDS = 24 * 3600;

export interface AdminActor {
  readonly userId: string;
  readonly correlationId: string;
}

const LIVE = `('requested', 'provisioning', 'active', 'releasing')`;

async function audit(client: pg.PoolClient, actor: AdminActor, action: string, nodeId: string, details: Record<string, unknown> = {}) {
  await recordAudit(client, {
    domain: 'compute',
    actorKind: 'admin',
    actorId: actor.userId,
    action,
    targetType: 'node',
    targetId: nodeId,
    correlationId: actor.correlationId,
    details,
  });
}

/** After COMMIT: live dashboards re-read the node. */
export function signalNodeChanged(deps: WakeDeps, nodeId: string): void {
  publishLive(deps.nats, liveNodeSubject(deps.config.natsNamespace, nodeId), { nodeId });
}

async function lockNode(client: pg.PoolClient, nodeId: string) {
  const { rows } = await client.query<{ id: string; state: NodeState; credential_hash: string | null; credential_revoked_at: Date | null }>(
    'SELECT id, state, credential_hash, credential_revoked_at FROM compute.nodes WHERE id = $1 FOR UPDATE',
    [nodeId],
  );
  if (!rows[0]) throw NotFound('Node');
  return rows[0];
}

async function viewOrThrow(client: pg.PoolClient, nodeId: string): Promise<NodeView> {
  const view = await findNodeView(client, nodeId);
  if (!view) throw NotFound('Node');
  return view;
}

export interface CreateNodeInput {
  readonly hostname: string;
  readonly region: string;
  readonly labels?: Record<string, string>;
}

export async function createNode(
  deps: ComputeDeps,
  actor: AdminActor,
  input: CreateNodeInput,
): Promise<{ node: NodeView; bootstrapToken: string; bootstrapTokenExpiresAt: Date }> {
  const token = newBootstrapToken();
  const id = uuidv7();
  const created = await withTransaction(deps.pool, async (client) => {
    const region = await client.query<{ id: string }>('SELECT id FROM compute.regions WHERE code = $1', [input.region]);
    if (!region.rows[0]) throw new AppError('unprocessable', `Unknown region ${input.region}`, { field: 'region' });
    const taken = await client.query(`SELECT 1 FROM compute.nodes WHERE hostname = $1 AND state <> 'retired'`, [input.hostname]);
    if (taken.rowCount) throw new AppError('already_exists', `A node named ${input.hostname} already exists`);
    const { rows } = await client.query<{ expires: Date }>(
      `INSERT INTO compute.nodes (id, hostname, region_id, labels, bootstrap_token_hash, bootstrap_token_expires_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, now() + make_interval(secs => $6)) RETURNING bootstrap_token_expires_at AS expires`,
      [id, input.hostname, region.rows[0].id, JSON.stringify(input.labels ?? {}), sha256Hex(token), BOOTSTRAP_TOKEN_TTL_SECONDS],
    );
    await audit(client, actor, 'node.create', id, { hostname: input.hostname, region: input.region });
    return { node: await viewOrThrow(client, id), bootstrapTokenExpiresAt: rows[0]!.expires };
  });
  signalNodeChanged(deps, id);
  return { ...created, bootstrapToken: token };
}

/** A fresh one-time token for a node without a working credential; voids any earlier unused one. */
export async function issueBootstrapToken(
  deps: ComputeDeps,
  actor: AdminActor,
  nodeId: string,
): Promise<{ nodeId: string; bootstrapToken: string; bootstrapTokenExpiresAt: Date }> {
  const token = newBootstrapToken();
  const expires = await withTransaction(deps.pool, async (client) => {
    const node = await lockNode(client, nodeId);
    if (node.state === 'retired') throw new AppError('invalid_state_transition', 'The node is retired');
    if (node.credential_hash !== null && node.credential_revoked_at === null) {
      throw new AppError('invalid_state_transition', 'The node holds an active credential; revoke it first');
    }
    const { rows } = await client.query<{ expires: Date }>(
      `UPDATE compute.nodes SET bootstrap_token_hash = $2, bootstrap_token_expires_at = now() + make_interval(secs => $3),
         bootstrap_token_used_at = NULL, updated_at = now() WHERE id = $1 RETURNING bootstrap_token_expires_at AS expires`,
      [nodeId, sha256Hex(token), BOOTSTRAP_TOKEN_TTL_SECONDS],
    );
    await audit(client, actor, 'node.bootstrap_token_issue', nodeId);
    return rows[0]!.expires;
  });
  signalNodeChanged(deps, nodeId);
  return { nodeId, bootstrapToken: token, bootstrapTokenExpiresAt: expires };
}

export async function revokeNodeCredential(deps: ComputeDeps, actor: AdminActor, nodeId: string, reason: string): Promise<NodeView> {
  const view = await withTransaction(deps.pool, async (client) => {
    await lockNode(client, nodeId);
    const changed = await client.query(
      `UPDATE compute.nodes SET credential_revoked_at = COALESCE(credential_revoked_at, now()),
         bootstrap_token_hash = NULL, bootstrap_token_expires_at = NULL, bootstrap_token_used_at = NULL,
         state_reason = $2, updated_at = now()
       WHERE id = $1 AND ((credential_hash IS NOT NULL AND credential_revoked_at IS NULL)
                          OR (bootstrap_token_hash IS NOT NULL AND bootstrap_token_used_at IS NULL))`,
      [nodeId, reason],
    );
    if (changed.rowCount) await audit(client, actor, 'node.credential_revoke', nodeId, { reason });
    return viewOrThrow(client, nodeId);
  });
  signalNodeChanged(deps, nodeId);
  return view;
}

export type OperatorNodeState = 'active' | 'cordoned' | 'draining' | 'retired';

const ALLOWED_FROM: Record<OperatorNodeState, readonly NodeState[]> = {
  cordoned: ['active', 'draining'],
  active: ['cordoned', 'draining'],
  draining: ['active', 'cordoned'],
  retired: ['pending', 'active', 'cordoned', 'draining', 'offline'],
};

const STATE_ACTIONS: Record<OperatorNodeState, string> = {
  cordoned: 'node.cordon',
  active: 'node.activate',
  draining: 'node.drain',
  retired: 'node.retire',
};

export interface UpdateNodeInput {
  readonly state?: OperatorNodeState;
  readonly labels?: Record<string, string>;
  readonly reason?: string;
}

export async function updateNode(deps: ComputeDeps, actor: AdminActor, nodeId: string, input: UpdateNodeInput): Promise<NodeView> {
  const view = await withTransaction(deps.pool, async (client) => {
    const node = await lockNode(client, nodeId);
    if (input.state !== undefined && input.state !== node.state) {
      if (!ALLOWED_FROM[input.state].includes(node.state)) {
        throw new AppError('invalid_state_transition', `A ${node.state} node cannot become ${input.state}`, { from: node.state, to: input.state });
      }
      if (input.state === 'retired') {
        const live = await client.query(`SELECT 1 FROM compute.allocations WHERE node_id = $1 AND state IN ${LIVE} LIMIT 1`, [nodeId]);
        if (live.rowCount) throw new AppError('conflict', 'The node still holds live allocations');
      }
      // Draining an idle node ends at cordoned right away (release-when-idle with nothing to wait for).
      let target: NodeState = input.state;
      if (target === 'draining') {
        const live = await client.query(`SELECT 1 FROM compute.allocations WHERE node_id = $1 AND state IN ${LIVE} LIMIT 1`, [nodeId]);
        if (!live.rowCount) target = 'cordoned';
      }
      await client.query(
        `UPDATE compute.nodes SET state = $2, state_reason = $3, state_before_offline = NULL, updated_at = now(),
           retired_at = CASE WHEN $2 = 'retired' THEN now() ELSE NULL END,
           credential_revoked_at = CASE WHEN $2 = 'retired' THEN COALESCE(credential_revoked_at, now()) ELSE credential_revoked_at END,
           bootstrap_token_hash = CASE WHEN $2 = 'retired' THEN NULL ELSE bootstrap_token_hash END,
           bootstrap_token_expires_at = CASE WHEN $2 = 'retired' THEN NULL ELSE bootstrap_token_expires_at END
         WHERE id = $1`,
        [nodeId, target, input.reason ?? null],
      );
      await audit(client, actor, STATE_ACTIONS[input.state], nodeId, { from: node.state, to: target, reason: input.reason ?? null });
    }
    if (input.labels !== undefined) {
      await client.query('UPDATE compute.nodes SET labels = $2::jsonb, updated_at = now() WHERE id = $1', [nodeId, JSON.stringify(input.labels)]);
      await audit(client, actor, 'node.labels_update', nodeId, { labels: input.labels, reason: input.reason ?? null });
    }
    return viewOrThrow(client, nodeId);
  });
  signalNodeChanged(deps, nodeId);
  return view;
}

/** Queues a discovery, or returns the one still open for the node. */
export async function discoverSliceTopology(deps: ComputeDeps, actor: AdminActor, nodeId: string): Promise<NodeTask> {
  const { task, created } = await withTransaction(deps.pool, async (client) => {
    const node = await lockNode(client, nodeId);
    if (!['active', 'cordoned', 'draining'].includes(node.state) || node.credential_hash === null) {
      throw new AppError('invalid_state_transition', `Discovery needs a registered node that is active, cordoned or draining (it is ${node.state})`);
    }
    // Every request is audited, also one answered with the discovery already open (registration queues one).
    const open = await findOpenNodeTask(client, nodeId, 'discover_topology');
    if (!open) await queueNodeTask(client, { nodeId, kind: 'discover_topology', payload: {} });
    const task = open ?? (await findOpenNodeTask(client, nodeId, 'discover_topology'))!;
    await audit(client, actor, 'node.slice_topology_discover', nodeId, { task_id: task.id, already_open: open !== undefined });
    return { task, created: open === undefined };
  });
  if (created) wakeNode(deps, nodeId);
  return task;
}

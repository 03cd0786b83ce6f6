import type pg from 'pg';
import { prepared, recordAudit, withTransaction } from '@gpuaas/db';
import { AppError, NotFound, Unauthenticated } from '@gpuaas/errors';
import type { ComputeDeps } from '../deps.js';
import type { Db } from './db.js';
import { signalNodeChanged } from './admin-nodes.js';
import { markNodeAllocationsLost } from './lost-allocations.js';
import type { NodeState } from './node-views.js';
import { claimNodeTask, claimNodeTaskWithCredential, findOpenNodeTask, queueNodeTask, wakeNode, type NodeTask } from './tasks.js';
import { isNodeCredentialShape, newNodeCredential, sha256Hex } from './tokens.js';
import { upsertNodeGpus, type ReportedGpu } from './topology.js';

/** How often agents are told to heartbeat; the timeout policy is several of these. */
export const HEARTBEAT_INTERVAL_SECONDS = 15;

export interface RegisterNodeInput {
  readonly hostname: string;
  readonly agentVersion: string;
  readonly driver: 'simulated' | 'nvidia';
  readonly gpus: readonly ReportedGpu[];
}

export interface NodeRegistration {
  readonly nodeId: string;
  readonly nodeCredential: string;
  readonly region: string;
  readonly heartbeatIntervalSeconds: number;
  readonly taskWaitMaxSeconds: number;
  readonly taskLeaseSeconds: number;
}

/**
 * Exchanges a one-time bootstrap token for a node credential. A pending node becomes active and gets a topology
 * discovery queued; a node re-registering (lost credential) keeps its id, state and topology.
 */
export async function registerNode(deps: ComputeDeps, bootstrapToken: string, input: RegisterNodeInput, correlationId: string): Promise<NodeRegistration> {
  const registration = await withTransaction(deps.pool, async (client) => {
    const { rows } = await client.query<{ id: string; hostname: string; state: NodeState; region: string; expired: boolean; used: boolean }>(
      `SELECT n.id, n.hostname, n.state, r.code AS region, n.bootstrap_token_expires_at <= now() AS expired,
              n.bootstrap_token_used_at IS NOT NULL AS used
       FROM compute.nodes n JOIN compute.regions r ON r.id = n.region_id
       WHERE n.bootstrap_token_hash = $1 FOR UPDATE OF n`,
      [sha256Hex(bootstrapToken)],
    );
    const node = rows[0];
    if (!node || node.expired || node.used || node.state === 'retired') throw Unauthenticated('Unknown, expired or already used bootstrap token');
    if (node.hostname !== input.hostname) {
      throw new AppError('unprocessable', `The token belongs to node ${node.hostname}, not ${input.hostname}`, { field: 'hostname' });
    }
    const credential = newNodeCredential(node.id);
    await client.query(
      `UPDATE compute.nodes SET credential_hash = $2, credential_issued_at = now(), credential_revoked_at = NULL,
         bootstrap_token_used_at = now(), agent_version = $3, driver = $4, registered_at = COALESCE(registered_at, now()),
         last_heartbeat_at = now(),
         state = CASE WHEN state = 'pending' THEN 'active' WHEN state = 'offline' THEN state_before_offline ELSE state END,
         state_before_offline = NULL, updated_at = now()
       WHERE id = $1`,
      [node.id, sha256Hex(credential), input.agentVersion, input.driver],
    );
    await upsertNodeGpus(client, node.id, input.gpus);
    const open = await findOpenNodeTask(client, node.id, 'discover_topology');
    if (!open) await queueNodeTask(client, { nodeId: node.id, kind: 'discover_topology', payload: {} });
    await recordAudit(client, {
      domain: 'compute',
      actorKind: 'node',
      actorId: node.id,
      action: 'node.register',
      targetType: 'node',
      targetId: node.id,
      correlationId,
      details: { hostname: input.hostname, agent_version: input.agentVersion, driver: input.driver, gpus: input.gpus.length },
    });
    return { nodeId: node.id, nodeCredential: credential, region: node.region };
  });
  wakeNode(deps, registration.nodeId);
  signalNodeChanged(deps, registration.nodeId);
  const { policies } = deps.config;
  return {
    ...registration,
    heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
    taskWaitMaxSeconds: policies.task_wait_max_seconds,
    taskLeaseSeconds: policies.task_lease_seconds,
  };
}

/** The node a bearer credential belongs to; a revoked credential or a retired node is unauthenticated. */
export async function authenticateNode(db: Db, credential: string | undefined): Promise<string> {
  const { rows } = await db.query<{ id: string }>(prepared(
    `SELECT id FROM compute.nodes WHERE credential_hash = $1 AND credential_revoked_at IS NULL AND state <> 'retired'`,
    [nodeCredentialHash(credential)],
  ));
  if (!rows[0]) throw Unauthenticated('Unknown or revoked node credential');
  return rows[0].id;
}

/** The path names a node: another node's id answers like a missing node. */
export async function authenticateNodeFor(db: Db, credential: string | undefined, pathNodeId: string): Promise<string> {
  const nodeId = await authenticateNode(db, credential);
  if (nodeId !== pathNodeId) throw NotFound('Node');
  return nodeId;
}

/**
 * The credential as stored (its hash) once its shape is right; the lookup itself is the caller's (often folded into
 * its first statement).
 */
export function nodeCredentialHash(credential: string | undefined): string {
  if (!credential || !isNodeCredentialShape(credential)) throw Unauthenticated('A node credential is required');
  return sha256Hex(credential);
}

/**
 * A long-poll's first claim, authenticated in the same statement (claimNodeTaskWithCredential). A credential that is
 * not the path node's live one answers exactly as authenticateNodeFor does (401, or 404 for another node's).
 */
export async function authenticateAndClaim(db: Db, credential: string | undefined, pathNodeId: string, leaseSeconds: number): Promise<NodeTask | undefined> {
  const claimed = await claimNodeTaskWithCredential(db, pathNodeId, nodeCredentialHash(credential), leaseSeconds);
  if (claimed.authenticated) return claimed.task;
  await authenticateNodeFor(db, credential, pathNodeId);
  // Authenticated after all (the credential was registered between the two statements): claim as usual.
  return claimNodeTask(db, pathNodeId, leaseSeconds);
}

export interface HeartbeatInput {
  readonly agentVersion: string;
  readonly runningAllocationIds: readonly string[];
}

export interface HeartbeatAnswer {
  readonly nodeState: 'active' | 'cordoned' | 'draining';
  readonly heartbeatIntervalSeconds: number;
  readonly serverTime: Date;
}

/**
 * Records the heartbeat: an offline node returns to its operator-set state, an idle draining node becomes
 * cordoned, and active allocations the agent no longer runs (past a grace of one heartbeat timeout, so a fresh
 * provision is not mistaken for a vanished one) are marked lost.
 */
export async function recordHeartbeat(deps: ComputeDeps, nodeId: string, input: HeartbeatInput, correlationId: string): Promise<HeartbeatAnswer> {
  const { state, changed } = await withTransaction(deps.pool, async (client: pg.PoolClient) => {
    const before = await client.query<{ state: NodeState }>('SELECT state FROM compute.nodes WHERE id = $1 FOR UPDATE', [nodeId]);
    if (!before.rows[0]) throw NotFound('Node');
    const graceStart = new Date(Date.now() - deps.config.policies.node_heartbeat_timeout_seconds * 1000);
    const live = await client.query<{ id: string }>(
      `SELECT id FROM compute.allocations WHERE node_id = $1 AND state = 'active' AND active_at < $2 AND NOT (id = ANY ($3::uuid[]))`,
      [nodeId, graceStart, input.runningAllocationIds],
    );
    if (live.rows.length > 0) {
      await markNodeAllocationsLost(client, {
        nodeId,
        reason: 'The node agent no longer runs this allocation',
        correlationId,
        onlyIds: live.rows.map((row) => row.id),
      });
    }
    const { rows } = await client.query<{ state: NodeState }>(
      `UPDATE compute.nodes n SET last_heartbeat_at = now(), agent_version = $2, updated_at = now(),
         state = CASE
           WHEN n.state = 'offline' THEN n.state_before_offline
           WHEN n.state = 'draining' AND NOT EXISTS (SELECT 1 FROM compute.allocations a WHERE a.node_id = n.id
             AND a.state IN ('requested', 'provisioning', 'active', 'releasing')) THEN 'cordoned'
           ELSE n.state END,
         state_before_offline = NULL
       WHERE n.id = $1 RETURNING n.state`,
      [nodeId, input.agentVersion],
    );
    return { state: rows[0]!.state, changed: rows[0]!.state !== before.rows[0].state || live.rows.length > 0 };
  });
  if (changed) signalNodeChanged(deps, nodeId);
  const nodeState = state === 'active' || state === 'cordoned' || state === 'draining' ? state : 'cordoned';
  return { nodeState, heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS, serverTime: new Date() };
}

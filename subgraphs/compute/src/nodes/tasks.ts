import type pg from 'pg';
import { AppError, Conflict, NotFound } from '@gpuaas/errors';
import { subjectFor, type NatsConnection } from '@gpuaas/events';
import { prepared, uuidv7 } from '@gpuaas/db';
import type { Db } from './db.js';

/** Kinds as stored (node_tasks_kind_check); the contract calls `discover_topology` `discover_slice_topology`. */
export type NodeTaskKind =
  | 'provision'
  | 'release'
  | 'discover_topology'
  | 'configure_slices'
  | 'open_terminal'
  | 'attach_volume'
  | 'detach_volume'
  | 'start_app'
  | 'stop_app';

export type NodeTaskState = 'queued' | 'leased' | 'succeeded' | 'failed' | 'cancelled';

export interface NodeTask {
  readonly id: string;
  readonly nodeId: string;
  readonly kind: NodeTaskKind;
  readonly allocationId: string | null;
  readonly payload: Record<string, unknown>;
  readonly state: NodeTaskState;
  readonly fencingToken: number;
  readonly attempts: number;
  readonly leaseExpiresAt: Date | null;
  readonly createdAt: Date;
  readonly result: Record<string, unknown> | null;
  readonly error: { code: string; message: string } | null;
  readonly completedAt: Date | null;
}

interface NodeTaskRow {
  id: string;
  node_id: string;
  kind: NodeTaskKind;
  allocation_id: string | null;
  payload: Record<string, unknown>;
  state: NodeTaskState;
  fencing_token: string;
  attempts: number;
  lease_expires_at: Date | null;
  created_at: Date;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  completed_at: Date | null;
}

const TASK_COLUMNS =
  'id, node_id, kind, allocation_id, payload, state, fencing_token, attempts, lease_expires_at, created_at, result, error, completed_at';

function toTask(row: NodeTaskRow): NodeTask {
  return {
    id: row.id,
    nodeId: row.node_id,
    kind: row.kind,
    allocationId: row.allocation_id,
    payload: row.payload,
    state: row.state,
    fencingToken: Number(row.fencing_token),
    attempts: row.attempts,
    leaseExpiresAt: row.lease_expires_at,
    createdAt: row.created_at,
    result: row.result,
    error: row.error,
    completedAt: row.completed_at,
  };
}

export interface QueueNodeTaskInput {
  readonly nodeId: string;
  readonly kind: NodeTaskKind;
  readonly allocationId?: string | null;
  readonly payload?: Record<string, unknown>;
}

/**
 * Queues a task inside the caller's transaction. An allocation may have one open task per kind
 * (node_tasks_open_per_allocation_key): a retried caller gets the open task back with `created: false`.
 * After COMMIT the caller calls wakeNode so a held long-poll answers at once.
 */
export async function queueNodeTask(client: pg.PoolClient, input: QueueNodeTaskInput): Promise<{ id: string; created: boolean }> {
  const id = uuidv7();
  const inserted = await client.query<{ id: string }>(prepared(
    `INSERT INTO compute.node_tasks (id, node_id, kind, allocation_id, payload) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (allocation_id, kind) WHERE allocation_id IS NOT NULL AND state IN ('queued', 'leased') DO NOTHING
     RETURNING id`,
    [id, input.nodeId, input.kind, input.allocationId ?? null, JSON.stringify(input.payload ?? {})],
  ));
  if (inserted.rows[0]) return { id: inserted.rows[0].id, created: true };
  const open = await client.query<{ id: string }>(
    `SELECT id FROM compute.node_tasks WHERE allocation_id = $1 AND kind = $2 AND state IN ('queued', 'leased')`,
    [input.allocationId, input.kind],
  );
  // ci-allow canonical_error_guard: the unique index guarantees the conflicting row exists in this transaction
  if (!open.rows[0]) throw new Error('open task vanished after conflict');
  return { id: open.rows[0].id, created: false };
}

/** The core-NATS subject that wakes a node's held long-polls, on whichever rest-adapter replica holds them. */
export function nodeWakeSubject(namespace: string, nodeId: string): string {
  return subjectFor(namespace, `compute.node-wake.${nodeId}`);
}

export function nodeWakeWildcard(namespace: string): string {
  return subjectFor(namespace, 'compute.node-wake.>');
}

/** What wakeNode needs: the connection and the namespace (ComputeDeps fits). */
export interface WakeDeps {
  readonly nats: NatsConnection;
  readonly config: { readonly natsNamespace: string };
}

/**
 * Call after COMMIT: `wakeNode(deps, nodeId)`. A lost wake only delays pickup until the poll's deadline; it never
 * loses the task. (The namespace is part of the subject, hence deps rather than the bare connection.)
 */
export function wakeNode(deps: WakeDeps, nodeId: string): void {
  try {
    deps.nats.publish(nodeWakeSubject(deps.config.natsNamespace, nodeId));
  } catch {
    // The task is committed; the agent's next poll claims it.
  }
}

/**
 * Leases the node's oldest claimable task: queued, or leased with the lease run out (its agent is presumed dead).
 * Each lease bumps the fencing token. A later task of an allocation waits while an earlier one is open, so an
 * allocation's tasks run in order. SKIP LOCKED lets concurrent polls of one node take different tasks.
 */
export async function claimNodeTask(db: Db, nodeId: string, leaseSeconds: number): Promise<NodeTask | undefined> {
  const { rows } = await db.query<NodeTaskRow>(prepared(
    `WITH next AS (${nextClaimable('$1')}) ${leaseNext}`,
    [nodeId, leaseSeconds],
  ));
  return rows[0] ? toTask(rows[0]) : undefined;
}

/**
 * claimNodeTask for a long-poll's first claim, in the same statement as the check that `credentialHash` is the
 * node's live credential (one round trip instead of two). Not authenticated: nothing is leased and the caller
 * explains why (authenticateNodeFor: unknown credential or another node's).
 */
export async function claimNodeTaskWithCredential(
  db: Db,
  nodeId: string,
  credentialHash: string,
  leaseSeconds: number,
): Promise<{ readonly authenticated: boolean; readonly task: NodeTask | undefined }> {
  const { rows } = await db.query<NodeTaskRow & { authenticated: boolean }>(prepared(
    `WITH node AS (
       SELECT n.id FROM compute.nodes n
        WHERE n.id = $1 AND n.credential_hash = $3 AND n.credential_revoked_at IS NULL AND n.state <> 'retired'
     ), next AS (${nextClaimable('(SELECT id FROM node)')}), leased AS (${leaseNext})
     SELECT EXISTS (SELECT 1 FROM node) AS authenticated, leased.* FROM (SELECT 1) AS one LEFT JOIN leased ON true`,
    [nodeId, leaseSeconds, credentialHash],
  ));
  const row = rows[0]!;
  return { authenticated: row.authenticated, task: row.id ? toTask(row) : undefined };
}

/** The node's oldest claimable task, locked (the `next` of a claim); `node` is the SQL naming the node's id. */
function nextClaimable(node: string): string {
  return `SELECT t.id FROM compute.node_tasks t
       WHERE t.node_id = ${node}
         AND (t.state = 'queued' OR (t.state = 'leased' AND t.lease_expires_at < now()))
         AND NOT EXISTS (
           SELECT 1 FROM compute.node_tasks e
           WHERE t.allocation_id IS NOT NULL AND e.allocation_id = t.allocation_id AND e.state IN ('queued', 'leased')
             AND (e.created_at, e.id) < (t.created_at, t.id))
       ORDER BY t.created_at, t.id
       LIMIT 1
       FOR UPDATE SKIP LOCKED`;
}

/** Leases the task `next` names ($2: lease seconds). */
const leaseNext = `UPDATE compute.node_tasks t
     SET state = 'leased', fencing_token = t.fencing_token + 1, attempts = t.attempts + 1, leased_at = now(),
         lease_expires_at = now() + make_interval(secs => $2), updated_at = now()
     FROM next WHERE t.id = next.id
     RETURNING ${TASK_COLUMNS.split(', ').map((column) => `t.${column}`).join(', ')}`;

export interface TaskResultInput {
  readonly fencingToken: number;
  readonly outcome: 'succeeded' | 'failed';
  readonly result?: Record<string, unknown> | null;
  readonly error?: { code: string; message: string } | null;
}

export type TaskResultDecision =
  | { readonly kind: 'record'; readonly task: NodeTask }
  | { readonly kind: 'duplicate'; readonly task: NodeTask };

/**
 * Locks the task and decides what a posted result means: a new outcome to record, or a replay of the recorded one.
 * Another node's task answers exactly like a missing one; an older fencing token is a stale lease.
 */
export async function lockTaskForResult(client: pg.PoolClient, nodeId: string, taskId: string, input: TaskResultInput): Promise<TaskResultDecision> {
  const { rows } = await client.query<NodeTaskRow>(prepared(
    `SELECT ${TASK_COLUMNS} FROM compute.node_tasks WHERE id = $1 AND node_id = $2 FOR UPDATE`,
    [taskId, nodeId],
  ));
  if (!rows[0]) throw NotFound('Task');
  const task = toTask(rows[0]);
  if (input.fencingToken < task.fencingToken) {
    throw new AppError('task_lease_stale', 'The task was leased again under a newer fencing token; drop this work', {
      fencing_token: input.fencingToken,
    });
  }
  if (input.fencingToken > task.fencingToken) throw Conflict('No lease was issued with this fencing token');
  if (task.state === 'succeeded' || task.state === 'failed') {
    if (task.state !== input.outcome) throw Conflict('A different outcome was already recorded for this lease');
    return { kind: 'duplicate', task };
  }
  if (task.state !== 'leased') throw Conflict(`The task is ${task.state}`);
  return { kind: 'record', task };
}

/**
 * Records the outcome of the lease the agent holds now (this node's task, still leased under exactly this fencing
 * token, and with `credentialHash` the node's live credential) in one statement; undefined otherwise, and the caller
 * explains why (authenticateNodeFor, lockTaskForResult: missing, stale lease, replay). The UPDATE takes the row lock,
 * and a concurrent report is waited for and the state re-checked.
 */
export async function completeLeasedTask(
  client: pg.PoolClient,
  nodeId: string,
  taskId: string,
  input: TaskResultInput,
  credentialHash?: string,
): Promise<NodeTask | undefined> {
  const { rows } = await client.query<NodeTaskRow>(prepared(
    `UPDATE compute.node_tasks SET state = $4, result = $5::jsonb, error = $6::jsonb, completed_at = now(), updated_at = now()
     WHERE id = $1 AND node_id = $2 AND state = 'leased' AND fencing_token = $3
       AND ($7::text IS NULL OR EXISTS (
         SELECT 1 FROM compute.nodes n
          WHERE n.id = $2 AND n.credential_hash = $7 AND n.credential_revoked_at IS NULL AND n.state <> 'retired'))
     RETURNING ${TASK_COLUMNS}`,
    [
      taskId,
      nodeId,
      input.fencingToken,
      input.outcome,
      input.result ? JSON.stringify(input.result) : null,
      input.error ? JSON.stringify(input.error) : null,
      credentialHash ?? null,
    ],
  ));
  return rows[0] ? toTask(rows[0]) : undefined;
}

export async function completeTask(client: pg.PoolClient, taskId: string, input: TaskResultInput): Promise<NodeTask> {
  const { rows } = await client.query<NodeTaskRow>(prepared(
    `UPDATE compute.node_tasks SET state = $2, result = $3::jsonb, error = $4::jsonb, completed_at = now(), updated_at = now()
     WHERE id = $1 RETURNING ${TASK_COLUMNS}`,
    [taskId, input.outcome, input.result ? JSON.stringify(input.result) : null, input.error ? JSON.stringify(input.error) : null],
  ));
  return toTask(rows[0]!);
}

/** An open discovery of the node, so a repeated request returns it instead of queueing another. */
export async function findOpenNodeTask(db: Db, nodeId: string, kind: NodeTaskKind): Promise<NodeTask | undefined> {
  const { rows } = await db.query<NodeTaskRow>(
    `SELECT ${TASK_COLUMNS} FROM compute.node_tasks WHERE node_id = $1 AND kind = $2 AND allocation_id IS NULL
       AND state IN ('queued', 'leased') ORDER BY created_at LIMIT 1`,
    [nodeId, kind],
  );
  return rows[0] ? toTask(rows[0]) : undefined;
}

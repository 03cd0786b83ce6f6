import { withTransaction } from '@gpuaas/db';
import { applyTaskOutcome } from '../allocations/task-outcomes.js';
import type { ComputeDeps } from '../deps.js';
import { applyTerminalTaskOutcome } from '../terminal/task-outcomes.js';
import { signalNodeChanged } from './admin-nodes.js';
import { authenticateNodeFor, nodeCredentialHash } from './agent-session.js';
import { completeLeasedTask, completeTask, lockTaskForResult, type NodeTask, type TaskResultInput } from './tasks.js';
import { applyTopologyReport, parseTopologyReport } from './topology.js';

export interface TaskResultAck {
  readonly taskId: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly recordedAt: Date;
  readonly duplicate: boolean;
}

/**
 * Records an agent's result for its current lease and applies it in the same transaction: the task's owner area
 * moves its objects on (allocations, terminals), a topology report replaces the node's slots. Replaying the same
 * outcome changes nothing and answers `duplicate: true`. The node is the one `credential` authenticates, and must be
 * `pathNodeId` (another node's credential answers like a missing node); the usual report checks the credential and
 * records the outcome in one statement.
 */
export async function reportTaskResult(
  deps: ComputeDeps,
  credential: string | undefined,
  pathNodeId: string,
  taskId: string,
  input: TaskResultInput,
): Promise<TaskResultAck> {
  const credentialHash = nodeCredentialHash(credential);
  const { task, duplicate } = await withTransaction(deps.pool, async (client) => {
    let done = await completeLeasedTask(client, pathNodeId, taskId, input, credentialHash);
    if (!done) {
      const nodeId = await authenticateNodeFor(client, credential, pathNodeId);
      const decision = await lockTaskForResult(client, nodeId, taskId, input);
      if (decision.kind === 'duplicate') return { task: decision.task, duplicate: true };
      done = await completeTask(client, taskId, input);
    }
    await applyOutcome(client, deps, done, input);
    return { task: done, duplicate: false };
  });
  if (!duplicate && task.kind === 'discover_topology') signalNodeChanged(deps, pathNodeId);
  return { taskId: task.id, outcome: task.state === 'failed' ? 'failed' : 'succeeded', recordedAt: task.completedAt ?? new Date(), duplicate };
}

async function applyOutcome(client: import('pg').PoolClient, deps: ComputeDeps, task: NodeTask, input: TaskResultInput): Promise<void> {
  const ref = { id: task.id, nodeId: task.nodeId, kind: task.kind, allocationId: task.allocationId, payload: task.payload };
  const outcome = { status: input.outcome, result: input.result ?? null, error: input.error ?? null };
  switch (task.kind) {
    case 'discover_topology':
      if (input.outcome === 'succeeded') await applyTopologyReport(client, task.nodeId, parseTopologyReport(input.result));
      else deps.logger.warn({ nodeId: task.nodeId, taskId: task.id, error: input.error }, 'slice topology discovery failed');
      return;
    case 'open_terminal':
      await applyTerminalTaskOutcome(client, deps, ref, outcome);
      return;
    default:
      await applyTaskOutcome(client, deps, ref, outcome);
  }
}

import { Forbidden } from '@gpuaas/errors';
import type { ComputeDeps } from '@gpuaas/subgraph-compute/deps';
import {
  authenticateNode,
  authenticateAndClaim,
  authenticateNodeFor,
  claimNodeTask,
  recordHeartbeat,
  registerNode,
  reportTaskResult,
  type NodeTask,
} from '@gpuaas/subgraph-compute/nodes';
import { ingestTelemetry } from '@gpuaas/subgraph-compute/telemetry';
import type { OperationContext, OperationHandlers } from '../operations/registry.js';
import type { NodeWakeHub } from './node-wake-hub.js';

type Json = Record<string, unknown>;

/** The contract names the topology task `discover_slice_topology`; the table stores `discover_topology`. */
const wireKind = (kind: NodeTask['kind']) => (kind === 'discover_topology' ? 'discover_slice_topology' : kind);

function taskBody(task: NodeTask): Json {
  return {
    task_id: task.id,
    kind: wireKind(task.kind),
    allocation_id: task.allocationId,
    payload: task.payload,
    fencing_token: task.fencingToken,
    attempt: task.attempts,
    lease_expires_at: task.leaseExpiresAt!.toISOString(),
    created_at: task.createdAt.toISOString(),
  };
}

/** Up to 20% shorter, so a fleet of agents started together does not poll in lock-step. */
function jittered(seconds: number): number {
  return Math.round(seconds * 1000 * (0.8 + Math.random() * 0.2));
}

/**
 * The node-agent API (/internal/v1), served straight from the compute domain services (not through GraphQL).
 * Every call but register authenticates the node credential; a path naming another node answers 404.
 */
export function createInternalHandlers(deps: ComputeDeps, hub: NodeWakeHub): OperationHandlers {
  const { policies } = deps.config;

  /** The first claim also authenticates the node (one statement); a wrong credential throws before any wait. */
  async function waitForTask(ctx: OperationContext, nodeId: string): Promise<NodeTask | undefined> {
    const requested = typeof ctx.query['wait_seconds'] === 'number' ? ctx.query['wait_seconds'] : policies.task_wait_max_seconds;
    const deadline = Date.now() + jittered(Math.min(requested, policies.task_wait_max_seconds));
    // ci-allow observability_trace_gate: subscribes to the in-process wake hub; no server is started here
    const listener = hub.listen(nodeId);
    try {
      for (let first = true; ; first = false) {
        // A poll whose agent has gone must not lease a task to nobody (it would sit out the whole lease).
        if (ctx.signal?.aborted) return undefined;
        const task = first
          ? await authenticateAndClaim(deps.pool, ctx.bearerToken, nodeId, policies.task_lease_seconds)
          : await claimNodeTask(deps.pool, nodeId, policies.task_lease_seconds);
        if (task) return task;
        const remaining = deadline - Date.now();
        if (remaining <= 0) return undefined;
        await listener.next(remaining, ctx.signal);
      }
    } finally {
      listener.stop();
    }
  }

  return {
    registerNode: async (ctx) => {
      const body = ctx.body as {
        hostname: string;
        agent_version: string;
        driver: 'simulated' | 'nvidia';
        capabilities: { gpus: Array<{ uuid: string; index: number; name: string; memory_bytes: number; mig_mode: 'enabled' | 'disabled' }> };
      };
      const registration = await registerNode(
        deps,
        ctx.bearerToken ?? '',
        {
          hostname: body.hostname,
          agentVersion: body.agent_version,
          driver: body.driver,
          gpus: body.capabilities.gpus.map((gpu) => ({ uuid: gpu.uuid, index: gpu.index, name: gpu.name, memoryBytes: gpu.memory_bytes, migMode: gpu.mig_mode })),
        },
        ctx.correlationId,
      );
      return {
        status: 201,
        body: {
          node_id: registration.nodeId,
          node_credential: registration.nodeCredential,
          region: registration.region,
          heartbeat_interval_seconds: registration.heartbeatIntervalSeconds,
          task_wait_max_seconds: registration.taskWaitMaxSeconds,
          task_lease_seconds: registration.taskLeaseSeconds,
        },
      };
    },

    sendNodeHeartbeat: async (ctx) => {
      const nodeId = await authenticateNodeFor(deps.pool, ctx.bearerToken, ctx.params['id']!);
      const body = ctx.body as { agent_version: string; running_allocation_ids: string[] };
      const answer = await recordHeartbeat(deps, nodeId, { agentVersion: body.agent_version, runningAllocationIds: body.running_allocation_ids }, ctx.correlationId);
      return {
        status: 200,
        body: { node_state: answer.nodeState, heartbeat_interval_seconds: answer.heartbeatIntervalSeconds, server_time: answer.serverTime.toISOString() },
      };
    },

    waitNodeTask: async (ctx) => {
      const task = await waitForTask(ctx, ctx.params['id']!);
      return task ? { status: 200, body: taskBody(task) } : { status: 204 };
    },

    reportNodeTaskResult: async (ctx) => {
      const body = ctx.body as { fencing_token: number; outcome: 'succeeded' | 'failed'; result?: Json | null; error?: { code: string; message: string } | null };
      const ack = await reportTaskResult(deps, ctx.bearerToken, ctx.params['id']!, ctx.params['taskId']!, {
        fencingToken: body.fencing_token,
        outcome: body.outcome,
        result: body.result ?? null,
        error: body.error ?? null,
      });
      return { status: 200, body: { task_id: ack.taskId, outcome: ack.outcome, recorded_at: ack.recordedAt.toISOString(), duplicate: ack.duplicate } };
    },

    ingestGuestTelemetry: async (ctx) => {
      const nodeId = await authenticateNode(deps.pool, ctx.bearerToken);
      const body = ctx.body as { node_id: string; samples: Json[] };
      if (body.node_id !== nodeId) throw Forbidden('A node may send telemetry for itself only');
      const counts = await ingestTelemetry(deps, nodeId, body.samples as never);
      return { status: 202, body: counts };
    },
  };
}

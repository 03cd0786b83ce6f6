import type { GraphQLResolverMap } from '@gpuaas/service-kit';
import { NotFound } from '@gpuaas/errors';
import { requireActor, requireAdmin } from '../allocations/actor.js';
import { toAllocationNode } from '../allocations/graphql-mapping.js';
import { isUuid } from '../allocations/validation.js';
import type { ComputeContext } from '../deps.js';
import { toComputeNode } from '../nodes/graphql-mapping.js';
import { listNodeViews } from '../nodes/node-views.js';
import { agentSampleToTelemetrySample } from '../telemetry/graphql-mapping.js';
import type { AgentSample } from '../telemetry/ingest.js';
import { allocationStream, versionedStream } from './allocation-stream.js';
import { liveFeedOf } from './feed.js';
import { ALL_NODES, signalFeedOf, type NodeCopy, type TelemetryBatch } from './signal-feed.js';

/** How many nodes (by hostname) a new subscriber to every node's changes receives first. */
const NODE_CATCH_UP_LIMIT = 200;

/** A report's samples grouped per device, in the order they came. */
function telemetryReport(allocationId: string, samples: readonly AgentSample[]) {
  const series = new Map<string, { gpuUuid: string; migUuid: string | null; samples: ReturnType<typeof agentSampleToTelemetrySample>[] }>();
  for (const sample of samples) {
    const key = `${sample.gpu_uuid}/${sample.mig_uuid ?? ''}`;
    let device = series.get(key);
    if (!device) series.set(key, (device = { gpuUuid: sample.gpu_uuid, migUuid: sample.mig_uuid, samples: [] }));
    device.samples.push(agentSampleToTelemetrySample(sample));
  }
  for (const device of series.values()) device.samples.sort((a, b) => a.sampledAt.getTime() - b.sampledAt.getTime());
  return { allocationId, series: [...series.values()] };
}

/**
 * Resolvers of schema/live.graphql. Each checks that the caller may read the object exactly like the queries do
 * (another tenant's id answers not_found, like a missing one), waits until the process's feed follows the stream,
 * listens, reads the current state and sends it, then every newer copy (allocation-stream.ts explains the order).
 * Start-up reads go through the feed's batched reads, so a burst of subscribers shares them.
 */
export const liveResolvers = {
  Subscription: {
    allocation: {
      subscribe: async (_: unknown, { id }: { id: string }, ctx: ComputeContext) => {
        const actor = requireActor(ctx);
        if (!isUuid(id)) throw NotFound('Allocation');
        const feed = liveFeedOf(ctx.deps);
        await feed.ready();
        return allocationStream(
          (push) => feed.allocations.add(id, push),
          async () => {
            const view = await feed.reads.allocation.load(id);
            if (!view || (await feed.reads.roleOf(view.projectId, actor.userId)) === null) throw NotFound('Allocation');
            return [view];
          },
          (view) => ({ allocation: toAllocationNode(view) }),
        );
      },
    },
    allocationUpdated: {
      subscribe: async (_: unknown, { projectId }: { projectId: string }, ctx: ComputeContext) => {
        const actor = requireActor(ctx);
        const feed = liveFeedOf(ctx.deps);
        if (!isUuid(projectId) || (await feed.reads.roleOf(projectId, actor.userId)) === null) throw NotFound('Project');
        await feed.ready();
        return allocationStream(
          (push) => feed.projects.add(projectId, push),
          () => feed.reads.projectLive.load(projectId),
          (view) => ({ allocationUpdated: toAllocationNode(view) }),
        );
      },
    },
    nodeUpdated: {
      subscribe: async (_: unknown, { id }: { id?: string | null }, ctx: ComputeContext) => {
        requireAdmin(ctx);
        if (id != null && !isUuid(id)) throw NotFound('Node');
        const signals = signalFeedOf(ctx.deps);
        await signals.ready();
        return versionedStream<NodeCopy>(
          (push) => signals.nodes.add(id ?? ALL_NODES, push),
          async () => {
            if (id == null) {
              const version = signals.nextVersion();
              return (await listNodeViews(ctx.deps.pool, {}, { limit: NODE_CATCH_UP_LIMIT })).map((node) => signals.stamp(node, version));
            }
            const copy = await signals.readNode(id);
            if (!copy) throw NotFound('Node');
            return [copy];
          },
          (copy) => ({ nodeUpdated: toComputeNode(copy.node) }),
        );
      },
    },
    allocationTelemetry: {
      subscribe: async (_: unknown, { id }: { id: string }, ctx: ComputeContext) => {
        const actor = requireActor(ctx);
        if (!isUuid(id)) throw NotFound('Allocation');
        const feed = liveFeedOf(ctx.deps);
        const view = await feed.reads.allocation.load(id);
        if (!view || (await feed.reads.roleOf(view.projectId, actor.userId)) === null) throw NotFound('Allocation');
        const signals = signalFeedOf(ctx.deps);
        await signals.ready();
        return versionedStream<TelemetryBatch>(
          (push) => signals.telemetry.add(id, push),
          async () => [],
          (batch) => ({ allocationTelemetry: telemetryReport(batch.id, batch.samples) }),
        );
      },
    },
  },
} as unknown as GraphQLResolverMap<object>;

import { NotFound, Validation } from '@gpuaas/errors';
import { loadBatched, type GraphQLResolverMap } from '@gpuaas/service-kit';
import type { ComputeContext } from '../deps.js';
import type {
  MutationAdminCreateNodeArgs,
  MutationAdminDiscoverNodeSliceTopologyArgs,
  MutationAdminIssueNodeBootstrapTokenArgs,
  MutationAdminRevokeNodeCredentialArgs,
  MutationAdminDrainNodeArgs,
  MutationAdminUpdateNodeArgs,
  QueryNodeArgs,
  QueryNodesArgs,
  QueryAdminNodeArgs,
  QueryAdminNodeSliceTopologyArgs,
  QueryAdminNodesArgs,
} from '../generated/resolvers-types.js';
import { requireAdmin } from '../allocations/actor.js';
import { modelsByIds, regionsByIds } from '../catalog/service.js';
import { createNode, discoverSliceTopology, issueBootstrapToken, revokeNodeCredential, updateNode, type OperatorNodeState } from './admin-nodes.js';
import {
  nodePageRequest,
  toComputeNode,
  toLegacyConnection,
  toNodeConnection,
  toNodeLiveAllocation,
  toNodeStateName,
  toSliceTopology,
  toTaskAccepted,
  type ComputeNodeParent,
} from './graphql-mapping.js';
import { findLegacyNode, listLegacyNodes, type LegacyNodeView } from './legacy-nodes.js';
import { findNodeView, liveAllocationsOfNodes, listNodeViews } from './node-views.js';
import { readSliceTopologies, readSliceTopology } from './topology.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id that is no uuid names no node (and must not reach a uuid column). */
function nodeId(id: string): string {
  if (!UUID.test(id)) throw NotFound('Node');
  return id;
}

/** Labels arrive as a JSONObject; the contract allows only string values (REST validates the rest of the shape). */
function labelsOf(value: unknown): Record<string, string> | undefined {
  if (value === null || value === undefined) return undefined;
  // The JSONObject scalar has already refused anything but an object.
  const bad = Object.entries(value as Record<string, unknown>).filter(([, label]) => typeof label !== 'string');
  if (bad.length > 0) throw Validation(bad.map(([key]) => ({ field: `body.labels.${key}`, message: 'must be a string' })));
  return value as Record<string, string>;
}

/** Resolvers of schema/nodes.graphql (merged into the subgraph's map by resolvers/index.ts). Admins only. */
export const nodeResolvers = {
  Query: {
    adminNodes: async (_: unknown, args: QueryAdminNodesArgs, ctx: ComputeContext) => {
      requireAdmin(ctx);
      const page = nodePageRequest(args.first, args.after);
      const filter = {
        ...(args.states ? { states: args.states.map(toNodeStateName) } : {}),
        ...(args.region ? { region: args.region } : {}),
      };
      const rows = await listNodeViews(ctx.deps.pool, filter, { limit: page.limit + 1, ...(page.after ? { after: page.after } : {}) });
      return toNodeConnection(rows, page.limit);
    },
    adminNode: async (_: unknown, { id }: QueryAdminNodeArgs, ctx: ComputeContext) => {
      requireAdmin(ctx);
      const view = UUID.test(id) ? await findNodeView(ctx.deps.pool, id) : undefined;
      if (!view) throw NotFound('Node');
      return toComputeNode(view);
    },
    node: async (_: unknown, { id }: QueryNodeArgs, ctx: ComputeContext) => {
      requireAdmin(ctx);
      return (UUID.test(id) ? await findLegacyNode(ctx.deps.pool, id) : undefined) ?? null;
    },
    nodes: async (_: unknown, args: QueryNodesArgs, ctx: ComputeContext) => {
      requireAdmin(ctx);
      const page = nodePageRequest(args.first, args.after);
      if (args.regionId && !UUID.test(args.regionId)) return toLegacyConnection([], page.limit);
      const rows = await listLegacyNodes(
        ctx.deps.pool,
        { ...(args.regionId ? { regionId: args.regionId } : {}), ...(args.state ? { state: args.state } : {}) },
        { limit: page.limit + 1, ...(page.after ? { after: page.after } : {}) },
      );
      return toLegacyConnection(rows, page.limit);
    },
    adminNodeSliceTopology: async (_: unknown, { id }: QueryAdminNodeSliceTopologyArgs, ctx: ComputeContext) => {
      requireAdmin(ctx);
      const topology = UUID.test(id) ? await readSliceTopology(ctx.deps.pool, id) : undefined;
      if (!topology) throw NotFound('Node');
      return toSliceTopology(topology);
    },
  },
  Mutation: {
    adminDrainNode: async (_: unknown, { input }: MutationAdminDrainNodeArgs, ctx: ComputeContext) => {
      const actor = requireAdmin(ctx);
      await updateNode(ctx.deps, actor, nodeId(input.id), { state: 'draining', ...(input.reason ? { reason: input.reason } : {}) });
      const legacy = await findLegacyNode(ctx.deps.pool, input.id);
      if (!legacy) throw NotFound('Node');
      return legacy;
    },
    adminCreateNode: async (_: unknown, { input }: MutationAdminCreateNodeArgs, ctx: ComputeContext) => {
      const labels = labelsOf(input.labels);
      const created = await createNode(ctx.deps, requireAdmin(ctx), { hostname: input.hostname, region: input.region, ...(labels ? { labels } : {}) });
      return { node: toComputeNode(created.node), bootstrapToken: created.bootstrapToken, bootstrapTokenExpiresAt: created.bootstrapTokenExpiresAt };
    },
    adminUpdateNode: async (_: unknown, { input }: MutationAdminUpdateNodeArgs, ctx: ComputeContext) => {
      const actor = requireAdmin(ctx);
      const labels = labelsOf(input.labels);
      if (!input.state && !labels) throw Validation([{ field: 'body', message: 'needs state or labels' }]);
      const view = await updateNode(ctx.deps, actor, nodeId(input.id), {
        ...(input.state ? { state: input.state.toLowerCase() as OperatorNodeState } : {}),
        ...(labels ? { labels } : {}),
        ...(input.reason ? { reason: input.reason } : {}),
      });
      return toComputeNode(view);
    },
    adminRevokeNodeCredential: async (_: unknown, { input }: MutationAdminRevokeNodeCredentialArgs, ctx: ComputeContext) =>
      toComputeNode(await revokeNodeCredential(ctx.deps, requireAdmin(ctx), nodeId(input.id), input.reason)),
    adminIssueNodeBootstrapToken: async (_: unknown, { input }: MutationAdminIssueNodeBootstrapTokenArgs, ctx: ComputeContext) =>
      issueBootstrapToken(ctx.deps, requireAdmin(ctx), nodeId(input.id)),
    adminDiscoverNodeSliceTopology: async (_: unknown, { input }: MutationAdminDiscoverNodeSliceTopologyArgs, ctx: ComputeContext) =>
      toTaskAccepted(await discoverSliceTopology(ctx.deps, requireAdmin(ctx), nodeId(input.id))),
  },
  Node: {
    region: (node: LegacyNodeView, _: unknown, ctx: ComputeContext) => loadBatched(ctx, 'region', node.regionId, (ids) => regionsByIds(ctx.deps, ids)),
    gpuModel: (node: LegacyNodeView, _: unknown, ctx: ComputeContext) => loadBatched(ctx, 'gpu-model', node.gpuModelId, (ids) => modelsByIds(ctx.deps, ids)),
  },
  ComputeNode: {
    __resolveReference: async (reference: { id: string }, ctx: ComputeContext) => {
      requireAdmin(ctx);
      const view = UUID.test(reference.id) ? await findNodeView(ctx.deps.pool, reference.id) : undefined;
      return view ? toComputeNode(view) : null;
    },
    // Batched per request: a page of nodes asks for every node's topology in one go.
    sliceInstances: async (node: ComputeNodeParent, _: unknown, ctx: ComputeContext) => {
      const topology = await loadBatched(ctx, 'node.sliceTopology', node.id, (ids) => readSliceTopologies(ctx.deps.pool, ids));
      return (topology?.gpus ?? []).flatMap((gpu) => gpu.instances);
    },
    liveAllocations: async (node: ComputeNodeParent, _: unknown, ctx: ComputeContext) => {
      const allocations = await loadBatched(ctx, 'node.liveAllocations', node.id, (ids) => liveAllocationsOfNodes(ctx.deps.pool, ids));
      return (allocations ?? []).map(toNodeLiveAllocation);
    },
  },
} satisfies GraphQLResolverMap<ComputeContext>;

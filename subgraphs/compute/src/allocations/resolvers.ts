import { loadBatched, type GraphQLResolverMap } from '@gpuaas/service-kit';
import type { ComputeContext } from '../deps.js';
import type {
  MutationAdminForceReleaseAllocationArgs,
  MutationCreateAllocationArgs,
  MutationReleaseAllocationArgs,
  MutationRequestAllocationArgs,
  MutationUpdateAllocationArgs,
  QueryAdminAllocationArgs,
  QueryAdminAllocationsArgs,
  QueryAllocationArgs,
  QueryAllocationsArgs,
  QueryReadableAllocationArgs,
  QueryReadableAllocationsArgs,
} from '../generated/resolvers-types.js';
import { requireActor, requireAdmin } from './actor.js';
import { profilesByIds, regionsByIds } from '../catalog/service.js';
import { resolveCostSoFar, type CostedAllocation } from './cost.js';
import { createAllocation, requestAllocation } from './create.js';
import { adminForceReleaseAllocation, releaseAllocation, renameAllocation } from './lifecycle.js';
import { toAllocationNode, toConnection, toStateName } from './graphql-mapping.js';
import { adminGetAllocation, adminListAllocations, getAllocation, listAllocations } from './queries.js';

/** Resolvers of schema/allocations.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const allocationResolvers = {
  Query: {
    allocation: async (_: unknown, { id }: QueryAllocationArgs, ctx: ComputeContext) =>
      toAllocationNode(await getAllocation(ctx.deps.pool, requireActor(ctx), id)),
    allocations: async (_: unknown, args: QueryAllocationsArgs, ctx: ComputeContext) =>
      toConnection(
        await listAllocations(ctx.deps.pool, requireActor(ctx), {
          projectId: args.projectId ?? null,
          states: [...(args.states ?? []), ...(args.state ? [args.state] : [])].map(toStateName),
          region: args.region ?? null,
          first: args.first ?? null,
          after: args.after ?? null,
        }),
      ),
    adminAllocations: async (_: unknown, args: QueryAdminAllocationsArgs, ctx: ComputeContext) => {
      requireAdmin(ctx);
      return toConnection(
        await adminListAllocations(ctx.deps.pool, {
          projectId: args.projectId ?? null,
          nodeId: args.nodeId ?? null,
          userId: args.userId ?? null,
          states: args.states?.map(toStateName) ?? null,
          region: args.region ?? null,
          first: args.first ?? null,
          after: args.after ?? null,
        }),
      );
    },
    readableAllocations: async (_: unknown, args: QueryReadableAllocationsArgs, ctx: ComputeContext) => {
      const actor = requireActor(ctx);
      const query = {
        projectId: args.projectId ?? null,
        states: args.states?.map(toStateName) ?? null,
        region: args.region ?? null,
        first: args.first ?? null,
        after: args.after ?? null,
      };
      return toConnection(actor.isAdmin ? await adminListAllocations(ctx.deps.pool, query) : await listAllocations(ctx.deps.pool, actor, query));
    },
    readableAllocation: async (_: unknown, { id }: QueryReadableAllocationArgs, ctx: ComputeContext) => {
      const actor = requireActor(ctx);
      return toAllocationNode(actor.isAdmin ? await adminGetAllocation(ctx.deps.pool, id) : await getAllocation(ctx.deps.pool, actor, id));
    },
    adminAllocation: async (_: unknown, { id }: QueryAdminAllocationArgs, ctx: ComputeContext) => {
      requireAdmin(ctx);
      return toAllocationNode(await adminGetAllocation(ctx.deps.pool, id));
    },
  },
  Mutation: {
    createAllocation: async (_: unknown, { input }: MutationCreateAllocationArgs, ctx: ComputeContext) =>
      toAllocationNode(
        await createAllocation(ctx.deps, requireActor(ctx), {
          projectId: input.projectId,
          name: input.name ?? null,
          profileId: input.profileId ?? null,
          gpuModel: input.gpuModel ?? null,
          profileName: input.profileName ?? null,
          region: input.region,
          osImageId: input.osImageId,
          sshKeyIds: input.sshKeyIds,
          volumeIds: input.volumeIds ?? null,
          appTemplateId: input.appTemplateId ?? null,
        }),
      ),
    requestAllocation: async (_: unknown, { input }: MutationRequestAllocationArgs, ctx: ComputeContext) =>
      toAllocationNode(
        await requestAllocation(ctx.deps, requireActor(ctx), {
          projectId: input.projectId,
          sliceProfileId: input.sliceProfileId,
          regionId: input.regionId,
          osImageId: input.osImageId ?? null,
          sshKeyIds: input.sshKeyIds ?? null,
        }),
      ),
    updateAllocation: async (_: unknown, { input }: MutationUpdateAllocationArgs, ctx: ComputeContext) =>
      toAllocationNode(await renameAllocation(ctx.deps, requireActor(ctx), input.id, input.name ?? null)),
    releaseAllocation: async (_: unknown, { input }: MutationReleaseAllocationArgs, ctx: ComputeContext) =>
      toAllocationNode(await releaseAllocation(ctx.deps, requireActor(ctx), input.id)),
    adminForceReleaseAllocation: async (_: unknown, { input }: MutationAdminForceReleaseAllocationArgs, ctx: ComputeContext) =>
      toAllocationNode(await adminForceReleaseAllocation(ctx.deps, requireAdmin(ctx), input.id, input.reason)),
  },
  Allocation: {
    // The catalog's own types, loaded through the catalog's batched readers.
    region: (allocation: { regionId: string }, _: unknown, ctx: ComputeContext) =>
      loadBatched(ctx, 'region', allocation.regionId, (ids) => regionsByIds(ctx.deps, ids)),
    sliceProfile: (allocation: { profile: { id: string } }, _: unknown, ctx: ComputeContext) =>
      loadBatched(ctx, 'slice-profile', allocation.profile.id, (ids) => profilesByIds(ctx.deps, ids)),
    costSoFar: (allocation: CostedAllocation, _: unknown, ctx: ComputeContext) => resolveCostSoFar(allocation, ctx),
    __resolveReference: async (reference: { id: string }, ctx: ComputeContext) => {
      const actor = requireActor(ctx);
      return toAllocationNode(actor.isAdmin ? await adminGetAllocation(ctx.deps.pool, reference.id) : await getAllocation(ctx.deps.pool, actor, reference.id));
    },
  },
} satisfies GraphQLResolverMap<ComputeContext>;

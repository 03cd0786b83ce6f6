import type { GraphQLResolverMap } from '@gpuaas/service-kit';
import type { ComputeContext } from '../deps.js';
import type { AllocationTelemetryArgs } from '../generated/resolvers-types.js';
import { toAllocationTelemetry, toResolutionName } from './graphql-mapping.js';
import { readAllocationTelemetry } from './queries.js';

/**
 * Resolvers of schema/telemetry.graphql. `Allocation.telemetry` trusts its parent: the Allocation was only resolved
 * for someone who may read it (a member of its project, or an admin through the admin fields).
 */
export const telemetryResolvers = {
  Allocation: {
    telemetry: async (allocation: { id: string }, args: AllocationTelemetryArgs, ctx: ComputeContext) =>
      toAllocationTelemetry(
        await readAllocationTelemetry(ctx.deps.pool, allocation.id, {
          // The DateTime scalar parses inputs into Dates.
          from: (args.from as Date | null | undefined) ?? null,
          to: (args.to as Date | null | undefined) ?? null,
          resolution: args.resolution ? toResolutionName(args.resolution) : null,
        }),
      ),
  },
} satisfies GraphQLResolverMap<ComputeContext>;

import { loadBatched, type GraphQLResolverMap } from '@gpuaas/service-kit';
import type { ComputeContext } from '../deps.js';
import { Validation } from '@gpuaas/errors';
import type { GpuModelProfilesArgs, QueryCatalogGpuModelsArgs, SliceProfileOffersArgs, QueryCatalogRegionsArgs, RegionStatus as GraphqlRegionStatus } from '../generated/resolvers-types.js';
import type { GpuModelRow, OfferRow, RegionRow } from './repository.js';
import { listCatalogRegions, listGpuModels, modelsByIds, profilesByIds, regionsByIds, withProfiles, type GpuModelView, type Page, type ProfileView, type RegionView } from './service.js';

/** `first` of a plain list field: at most that many items, all when absent. */
function bounded<T>(items: readonly T[], first: number | null | undefined): readonly T[] {
  if (first === null || first === undefined) return items;
  if (!Number.isInteger(first) || first < 0) throw Validation([{ field: 'first', message: 'must be a non-negative integer' }]);
  return items.slice(0, first);
}

const connection = <T>(page: Page<T>) => ({ edges: page.items, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } });

const toGraphqlRegionStatus = (status: RegionRow['status']): GraphqlRegionStatus => status.toUpperCase() as GraphqlRegionStatus;

/** Resolvers of schema/catalog.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const catalogResolvers = {
  Query: {
    catalogGpuModels: async (_: unknown, args: QueryCatalogGpuModelsArgs, ctx: ComputeContext) => connection(await listGpuModels(ctx.deps, ctx, args)),
    catalogRegions: async (_: unknown, args: QueryCatalogRegionsArgs, ctx: ComputeContext) => {
      // RETIRED regions are never listed, so asking for them answers an empty page.
      if (args.status === 'RETIRED') return connection({ items: [], hasNextPage: false, endCursor: null });
      const status = args.status ? (args.status.toLowerCase() as 'active' | 'maintenance') : null;
      return connection(await listCatalogRegions(ctx.deps, ctx, { status, first: args.first, after: args.after }));
    },
  },
  GpuModel: {
    __resolveReference: (reference: { id: string }, ctx: ComputeContext) => loadBatched(ctx, 'gpu-model', reference.id, (ids) => modelsByIds(ctx.deps, ids)),
    // A listing brings its (filtered) profiles along; a reference loads every offered profile, batched.
    profiles: async (model: GpuModelRow | GpuModelView, { first }: GpuModelProfilesArgs, ctx: ComputeContext) =>
      bounded(
        'profiles' in model
          ? model.profiles
          : ((await loadBatched(ctx, 'gpu-model-profiles', model.id, async (ids) => {
              const models = await withProfiles(ctx.deps, [...(await modelsByIds(ctx.deps, ids)).values()]);
              return new Map(models.map((view) => [view.id, view.profiles]));
            })) ?? []),
        first,
      ),
  },
  SliceProfile: {
    __resolveReference: (reference: { id: string }, ctx: ComputeContext) => loadBatched(ctx, 'slice-profile', reference.id, (ids) => profilesByIds(ctx.deps, ids)),
    kind: (profile: ProfileView) => (profile.name === 'whole' ? 'WHOLE' : 'MIG'),
    offers: (profile: ProfileView, { first }: SliceProfileOffersArgs) => bounded(profile.offers, first),
    gpuModel: (profile: ProfileView, _: unknown, ctx: ComputeContext) => loadBatched(ctx, 'gpu-model', profile.gpuModelId, (ids) => modelsByIds(ctx.deps, ids)),
  },
  RegionOffer: {
    hourlyPrice: (offer: OfferRow) => ({ amountMinor: offer.hourlyAmountMinor, currency: offer.currency }),
  },
  Region: {
    __resolveReference: (reference: { id: string }, ctx: ComputeContext) => loadBatched(ctx, 'region', reference.id, (ids) => regionsByIds(ctx.deps, ids)),
    status: (region: RegionView) => toGraphqlRegionStatus(region.status),
    // An offer's region carries no count of its own; the region's total is one more grouped query, batched.
    availableSlots: async (region: RegionRow | RegionView, _: unknown, ctx: ComputeContext) =>
      'availableSlots' in region ? region.availableSlots : ((await loadBatched(ctx, 'region', region.id, (ids) => regionsByIds(ctx.deps, ids)))?.availableSlots ?? 0),
  },
} satisfies GraphQLResolverMap<ComputeContext>;

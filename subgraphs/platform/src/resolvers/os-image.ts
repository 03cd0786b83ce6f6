import type { OsImageStatus as GraphqlOsImageStatus } from '../generated/resolvers-types.js';
import type { PlatformContext } from '../context.js';
import type { OsImageRow, OsImageStatus } from '../repositories/os-images.js';
import { requireAdmin } from '../services/caller.js';
import { displayNameOf } from '../services/os-image-rules.js';
import { imagesByIds, liveAllocationCountsOf } from '../services/os-images.js';
import { loadBatched } from '@gpuaas/service-kit';

export const toGraphqlStatus = (status: OsImageStatus): GraphqlOsImageStatus => (status === 'active' ? 'ACTIVE' : 'DEPRECATED');
export const fromGraphqlStatus = (status: GraphqlOsImageStatus): OsImageStatus => (status === 'ACTIVE' ? 'active' : 'deprecated');

/** The OsImage entity: other subgraphs reference it by id (an allocation's image) and the gateway resolves it here. */
export const OsImage = {
  __resolveReference: (reference: { id: string }, ctx: PlatformContext): Promise<OsImageRow | undefined> =>
    loadBatched(ctx, 'os-image', reference.id, (ids) => imagesByIds(ctx.deps, ids)),
  status: (image: OsImageRow) => toGraphqlStatus(image.status),
  displayName: (image: OsImageRow) => displayNameOf(image),
  imageRef: (image: OsImageRow, _: unknown, ctx: PlatformContext) => {
    requireAdmin(ctx);
    return image.imageRef;
  },
  liveAllocationCount: async (image: OsImageRow, _: unknown, ctx: PlatformContext) => {
    requireAdmin(ctx);
    return (await loadBatched(ctx, 'live-allocation-count', image.id, (ids) => liveAllocationCountsOf(ctx.deps, ids))) ?? 0;
  },
};

import type {
  MutationAdminCreateOsImageArgs,
  MutationAdminDeleteOsImageArgs,
  MutationAdminUpdateOsImageArgs,
  QueryAdminOsImageArgs,
  QueryAdminOsImagesArgs,
  QueryOsImageArgs,
  QueryOsImagesArgs,
} from '../generated/resolvers-types.js';
import type { PlatformContext } from '../context.js';
import type { OsImageRow } from '../repositories/os-images.js';
import { createImage, deleteImage, getImage, listImages, updateImage, type OsImagePatch } from '../services/os-images.js';
import type { Page } from '../services/pagination.js';
import { fromGraphqlStatus } from './os-image.js';

const connection = (page: Page<OsImageRow>) => ({
  edges: page.items,
  pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
});

const listArgs = (args: QueryOsImagesArgs | QueryAdminOsImagesArgs) => ({
  first: args.first,
  after: args.after,
  family: args.family,
  status: args.status ? fromGraphqlStatus(args.status) : null,
});

/** OS image root queries: the catalog for every signed-in user, the admin views for operators. */
export const osImageQueries = {
  osImages: async (_: unknown, args: QueryOsImagesArgs, ctx: PlatformContext) => connection(await listImages(ctx.deps, ctx, listArgs(args), 'user')),
  osImage: (_: unknown, { id }: QueryOsImageArgs, ctx: PlatformContext) => getImage(ctx.deps, ctx, id, 'user'),
  adminOsImages: async (_: unknown, args: QueryAdminOsImagesArgs, ctx: PlatformContext) => connection(await listImages(ctx.deps, ctx, listArgs(args), 'admin')),
  adminOsImage: (_: unknown, { id }: QueryAdminOsImageArgs, ctx: PlatformContext) => getImage(ctx.deps, ctx, id, 'admin'),
};

/** Operator mutations; each writes its audit_logs row in the service's transaction. */
export const osImageMutations = {
  adminCreateOsImage: (_: unknown, { input }: MutationAdminCreateOsImageArgs, ctx: PlatformContext) =>
    createImage(ctx.deps, ctx, { ...input, status: input.status ? fromGraphqlStatus(input.status) : null }),
  adminUpdateOsImage: (_: unknown, { input }: MutationAdminUpdateOsImageArgs, ctx: PlatformContext) => {
    // Keys the client left out stay out: `cudaVersion: null` clears, an absent key keeps.
    const { status, ...rest } = input;
    const patch: OsImagePatch = { ...rest, ...('status' in input ? { status: status ? fromGraphqlStatus(status) : null } : {}) };
    return updateImage(ctx.deps, ctx, patch);
  },
  adminDeleteOsImage: (_: unknown, { input }: MutationAdminDeleteOsImageArgs, ctx: PlatformContext) => deleteImage(ctx.deps, ctx, input.id),
};

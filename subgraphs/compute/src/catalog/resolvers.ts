import type { GraphQLResolverMap } from '@gpuaas/service-kit';

/** Resolvers of schema/catalog.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const catalogResolvers: GraphQLResolverMap<object> = {};

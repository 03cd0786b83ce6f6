import type { GraphQLResolverMap } from '@gpuaas/service-kit';

/** Resolvers of schema/live.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const liveResolvers: GraphQLResolverMap<object> = {};

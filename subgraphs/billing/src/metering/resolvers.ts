import type { GraphQLResolverMap } from '@gpuaas/service-kit';

/** Resolvers of schema/metering.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const meteringResolvers: GraphQLResolverMap<object> = {};

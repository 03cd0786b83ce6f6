import type { GraphQLResolverMap } from '@gpuaas/service-kit';

/** Resolvers of schema/allocations.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const allocationResolvers: GraphQLResolverMap<object> = {};

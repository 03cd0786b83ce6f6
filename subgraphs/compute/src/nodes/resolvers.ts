import type { GraphQLResolverMap } from '@gpuaas/service-kit';

/** Resolvers of schema/nodes.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const nodeResolvers: GraphQLResolverMap<object> = {};

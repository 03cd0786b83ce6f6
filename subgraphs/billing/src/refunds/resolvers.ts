import type { GraphQLResolverMap } from '@gpuaas/service-kit';

/** Resolvers of schema/refunds.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const refundResolvers: GraphQLResolverMap<object> = {};

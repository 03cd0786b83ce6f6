import type { GraphQLResolverMap } from '@gpuaas/service-kit';

/** Resolvers of schema/payments.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const paymentResolvers: GraphQLResolverMap<object> = {};

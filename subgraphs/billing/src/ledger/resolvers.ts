import type { GraphQLResolverMap } from '@gpuaas/service-kit';

/** Resolvers of schema/ledger.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const ledgerResolvers: GraphQLResolverMap<object> = {};

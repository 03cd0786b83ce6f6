import type { GraphQLResolverMap } from '@gpuaas/service-kit';

/** Resolvers of schema/terminal.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const terminalResolvers: GraphQLResolverMap<object> = {};

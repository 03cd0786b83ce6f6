import type { GraphQLResolverMap } from '@gpuaas/service-kit';
import type { ComputeContext } from '../deps.js';
import type { MutationCreateAllocationTerminalTokenArgs } from '../generated/resolvers-types.js';
import { createTerminalToken } from './service.js';

const mutations = {
  createAllocationTerminalToken: (_: unknown, { input }: MutationCreateAllocationTerminalTokenArgs, ctx: ComputeContext) =>
    createTerminalToken(ctx.deps, ctx.identity, input.id),
};

/** Resolvers of schema/terminal.graphql (merged into the subgraph's map by resolvers/index.ts). */
export const terminalResolvers = { Mutation: mutations } as unknown as GraphQLResolverMap<object>;

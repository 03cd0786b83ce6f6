import { GraphQLScalarType } from 'graphql';
import { dateTimeScalar, type GraphQLResolverMap } from '@gpuaas/service-kit';
import type { ComputeContext } from '../deps.js';
import { allocationResolvers } from '../allocations/resolvers.js';
import { catalogResolvers } from '../catalog/resolvers.js';
import { liveResolvers } from '../live/resolvers.js';
import { nodeResolvers } from '../nodes/resolvers.js';
import { telemetryResolvers } from '../telemetry/resolvers.js';
import { terminalResolvers } from '../terminal/resolvers.js';
import { jsonObjectScalar } from './json-object.js';

const COMPUTE_API_VERSION = '1';

type ResolverMap = GraphQLResolverMap<ComputeContext>;

/** Merges each area's resolver map type by type, so two areas may add fields to the same type (Query, Allocation…). */
export function mergeResolvers(...maps: ResolverMap[]): ResolverMap {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const map of maps) {
    for (const [typeName, fields] of Object.entries(map)) {
      if (fields instanceof GraphQLScalarType) {
        merged[typeName] = fields as unknown as Record<string, unknown>;
        continue;
      }
      const target = (merged[typeName] ??= {});
      for (const [field, resolver] of Object.entries(fields as Record<string, unknown>)) {
        // ci-allow canonical_error_guard: start-up only, two areas defined the same field
        if (field in target) throw new Error(`two compute areas resolve ${typeName}.${field}`);
        target[field] = resolver;
      }
    }
  }
  return merged as ResolverMap;
}

export const resolvers: ResolverMap = {
  ...mergeResolvers(
    { Query: { computeApiVersion: () => COMPUTE_API_VERSION }, Mutation: { computePing: () => COMPUTE_API_VERSION } },
    catalogResolvers,
    nodeResolvers,
    allocationResolvers,
    telemetryResolvers,
    terminalResolvers,
    liveResolvers,
  ),
  DateTime: dateTimeScalar,
  JSONObject: jsonObjectScalar,
};

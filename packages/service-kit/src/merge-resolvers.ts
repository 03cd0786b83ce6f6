import { GraphQLScalarType } from 'graphql';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';

type ResolverMap = GraphQLResolverMap<object>;

/**
 * Merges several areas' resolver maps type by type, so two areas of one subgraph may add fields to the same type
 * (Query, Mutation, an entity) while a field resolved twice fails at start-up instead of silently shadowing.
 */
export function mergeResolverMaps(...maps: ResolverMap[]): ResolverMap {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const map of maps) {
    for (const [typeName, fields] of Object.entries(map)) {
      if (fields instanceof GraphQLScalarType) {
        merged[typeName] = fields as unknown as Record<string, unknown>;
        continue;
      }
      const target = (merged[typeName] ??= {});
      for (const [field, resolver] of Object.entries(fields as Record<string, unknown>)) {
        // ci-allow canonical_error_guard: start-up only, two areas resolve the same field
        if (field in target) throw new Error(`two areas resolve ${typeName}.${field}`);
        target[field] = resolver;
      }
    }
  }
  return merged as ResolverMap;
}

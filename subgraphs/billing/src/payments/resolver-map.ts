import type { GraphQLResolverMap } from '@gpuaas/service-kit';
import type { BillingContext } from '../deps.js';

/**
 * The subgraph merges area maps typed on `object` (mergeResolverMaps); server.ts builds a BillingContext for every
 * request, so an area's map typed on BillingContext is handed over as such.
 */
export const billingResolverMap = (map: GraphQLResolverMap<BillingContext>): GraphQLResolverMap<object> => map as unknown as GraphQLResolverMap<object>;

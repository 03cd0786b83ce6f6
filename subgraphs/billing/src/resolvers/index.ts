import { dateTimeScalar, mergeResolverMaps, type GraphQLResolverMap } from '@gpuaas/service-kit';
import { ledgerResolvers } from '../ledger/resolvers.js';
import { meteringResolvers } from '../metering/resolvers.js';
import { paymentResolvers } from '../payments/resolvers.js';
import { refundResolvers } from '../refunds/resolvers.js';

const BILLING_API_VERSION = '1';

export const resolvers: GraphQLResolverMap<object> = {
  ...mergeResolverMaps(
    { Query: { billingApiVersion: () => BILLING_API_VERSION }, Mutation: { billingPing: () => BILLING_API_VERSION } },
    ledgerResolvers,
    meteringResolvers,
    paymentResolvers,
    refundResolvers,
  ),
  DateTime: dateTimeScalar,
};

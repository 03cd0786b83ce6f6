import { dateTimeScalar, type GraphQLResolverMap } from '@gpuaas/service-kit';
import { Mutation } from './mutation/index.js';
import { Query } from './query/index.js';
import { Wallet } from './wallet.js';
import { LedgerEntry } from './ledger-entry.js';
import { Refund } from './refund.js';
import { CheckoutSession } from './checkout-session.js';

export const resolvers: GraphQLResolverMap<object> = {
  DateTime: dateTimeScalar,
  Query,
  Mutation,
  Wallet,
  LedgerEntry,
  Refund,
  CheckoutSession,
};

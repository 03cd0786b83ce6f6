import { dateTimeScalar, type GraphQLResolverMap } from '@gpuaas/service-kit';
import { Mutation } from './mutation/index.js';
import { Query } from './query/index.js';
import { Volume } from './volume.js';
import { AppTemplate } from './app-template.js';
import { AppInstance } from './app-instance.js';

export const resolvers: GraphQLResolverMap<object> = {
  DateTime: dateTimeScalar,
  Query,
  Mutation,
  Volume,
  AppTemplate,
  AppInstance,
};

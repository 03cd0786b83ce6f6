import { dateTimeScalar, type GraphQLResolverMap } from '@gpuaas/service-kit';
import { Mutation } from './mutation/index.js';
import { Query } from './query/index.js';
import { User } from './user.js';
import { Project } from './project.js';

export const resolvers: GraphQLResolverMap<object> = {
  DateTime: dateTimeScalar,
  Query,
  Mutation,
  User,
  Project,
};

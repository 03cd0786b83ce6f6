import { dateTimeScalar, type GraphQLResolverMap } from '@gpuaas/service-kit';
import { Mutation } from './mutation/index.js';
import { Query } from './query/index.js';
import { GpuModel } from './gpu-model.js';
import { SliceProfile } from './slice-profile.js';
import { Region } from './region.js';
import { Node } from './node.js';
import { Allocation } from './allocation.js';

export const resolvers: GraphQLResolverMap<object> = {
  DateTime: dateTimeScalar,
  Query,
  Mutation,
  GpuModel,
  SliceProfile,
  Region,
  Node,
  Allocation,
};

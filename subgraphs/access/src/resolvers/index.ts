import { dateTimeScalar, type GraphQLResolverMap } from '@gpuaas/service-kit';
import type { AccessContext } from '../context.js';
import { adminMutations } from './mutation-admin.js';
import { authMutations } from './mutation-auth.js';
import { meMutations } from './mutation-me.js';
import { projectMutations } from './mutation-projects.js';
import { Project, ProjectMember } from './project.js';
import { Query } from './query.js';
import { SshKey } from './ssh-key.js';
import { User } from './user.js';

export const resolvers = {
  DateTime: dateTimeScalar,
  Query,
  Mutation: { ...authMutations, ...meMutations, ...projectMutations, ...adminMutations },
  User,
  Project,
  ProjectMember,
  SshKey,
} satisfies GraphQLResolverMap<AccessContext>;

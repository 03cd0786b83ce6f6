import type {
  MutationAddProjectMemberArgs,
  MutationCreateProjectArgs,
  MutationDeleteProjectArgs,
  MutationRemoveProjectMemberArgs,
  MutationUpdateProjectArgs,
  MutationUpdateProjectMemberArgs,
} from '../generated/resolvers-types.js';
import type { AccessContext } from '../context.js';
import { addProjectMember, removeProjectMember, updateProjectMember } from '../services/project-members.js';
import { createProject, deleteProject, updateProject } from '../services/projects.js';
import { fromProjectRole } from './mappers.js';

/** Projects and their members; the role rules live in services/project-roles.ts. */
export const projectMutations = {
  createProject: (_: unknown, { input }: MutationCreateProjectArgs, ctx: AccessContext) => createProject(ctx.deps, ctx, input),

  updateProject: (_: unknown, { input }: MutationUpdateProjectArgs, ctx: AccessContext) => updateProject(ctx.deps, ctx, input),

  deleteProject: (_: unknown, { input }: MutationDeleteProjectArgs, ctx: AccessContext) => deleteProject(ctx.deps, ctx, input.id),

  addProjectMember: (_: unknown, { input }: MutationAddProjectMemberArgs, ctx: AccessContext) =>
    addProjectMember(ctx.deps, ctx, { ...input, role: fromProjectRole(input.role) }),

  updateProjectMember: (_: unknown, { input }: MutationUpdateProjectMemberArgs, ctx: AccessContext) =>
    updateProjectMember(ctx.deps, ctx, { ...input, role: fromProjectRole(input.role) }),

  removeProjectMember: (_: unknown, { input }: MutationRemoveProjectMemberArgs, ctx: AccessContext) => removeProjectMember(ctx.deps, ctx, input),
};

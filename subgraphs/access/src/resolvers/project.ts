import type { ProjectMembersArgs } from '../generated/resolvers-types.js';
import type { AccessContext } from '../context.js';
import type { MemberView } from '../repositories/project-members.js';
import type { ProjectView } from '../repositories/projects.js';
import { getProject, membersOf, ownerOf } from '../services/projects.js';
import { fromProjectRole, toConnection, toProjectRole } from './mappers.js';

/**
 * A Project is a `ProjectView` some service already authorised (a member's read, or an operator's listing of a
 * user's projects), so its members and owner are read without another membership check.
 */
export const Project = {
  __resolveReference: (reference: { id: string }, ctx: AccessContext) => getProject(ctx.deps, ctx, reference.id),
  myRole: (project: ProjectView) => toProjectRole(project.role),
  memberCount: (project: ProjectView) => project.memberCount,
  owner: (project: ProjectView, _: unknown, ctx: AccessContext) => ownerOf(ctx.deps, project.id),
  members: async (project: ProjectView, args: ProjectMembersArgs, ctx: AccessContext) =>
    toConnection(await membersOf(ctx.deps, project.id, { ...args, role: args.role ? fromProjectRole(args.role) : undefined })),
};

export const ProjectMember = {
  role: (member: MemberView) => toProjectRole(member.role),
};

import type { ProjectMembersArgs } from '../generated/resolvers-types.js';
import type { AccessContext } from '../context.js';
import type { MemberView } from '../repositories/project-members.js';
import { Forbidden } from '@gpuaas/errors';
import type { ProjectReferenceView } from '../repositories/projects.js';
import { membersOf, ownerOf, resolveProjectReference } from '../services/projects.js';
import { fromProjectRole, toConnection, toProjectRole } from './mappers.js';

/**
 * A Project is a `ProjectView` some service already authorised (a member's read, or an operator's listing of a
 * user's projects), so its members and owner are read without another membership check.
 */
export const Project = {
  __resolveReference: (reference: { id: string }, ctx: AccessContext) => resolveProjectReference(ctx.deps, ctx, reference.id),
  myRole: (project: ProjectReferenceView) => {
    // An operator reading another tenant's project through an admin view holds no role in it.
    if (project.role === null) throw Forbidden('The caller is not a member of this project');
    return toProjectRole(project.role);
  },
  memberCount: (project: ProjectReferenceView) => project.memberCount,
  owner: (project: ProjectReferenceView, _: unknown, ctx: AccessContext) => ownerOf(ctx.deps, project.id),
  members: async (project: ProjectReferenceView, args: ProjectMembersArgs, ctx: AccessContext) =>
    toConnection(await membersOf(ctx.deps, project.id, { ...args, role: args.role ? fromProjectRole(args.role) : undefined })),
};

export const ProjectMember = {
  role: (member: MemberView) => toProjectRole(member.role),
};

import type { UserProjectsArgs } from '../generated/resolvers-types.js';
import type { AccessContext } from '../context.js';
import { resolveUserReference, projectsOfUser, type UserNode } from '../services/users.js';
import { fromProjectRole, toConnection, toUserRole, toUserStatus } from './mappers.js';

/** A User is a `UserNode`: the row plus who is looking, which decides the restricted fields. */
export const User = {
  __resolveReference: (reference: { id: string }, ctx: AccessContext) => resolveUserReference(ctx.deps, ctx, reference.id),
  id: (node: UserNode) => node.view.id,
  email: (node: UserNode) => node.view.email,
  displayName: (node: UserNode) => node.view.displayName,
  role: (node: UserNode) => toUserRole(node.view.role),
  status: (node: UserNode) => toUserStatus(node.view.status),
  createdAt: (node: UserNode) => node.view.createdAt,
  personalProjectId: (node: UserNode) => node.view.personalProjectId,
  projectCount: (node: UserNode) => node.view.projectCount,
  sshKeyCount: (node: UserNode) => node.view.sshKeyCount,
  authMethods: ({ view }: UserNode) => [
    ...(view.passwordHash !== null ? [{ type: 'PASSWORD', provider: null, linkedAt: view.passwordSetAt ?? view.createdAt }] : []),
    ...view.oidcMethods.map((method) => ({ type: 'OIDC', provider: method.provider, linkedAt: method.linkedAt })),
  ],
  lastLoginAt: ({ view, audience }: UserNode) => (audience === 'member' ? null : view.lastLoginAt),
  suspendedAt: ({ view, audience }: UserNode) => (audience === 'admin' ? view.suspendedAt : null),
  suspensionReason: ({ view, audience }: UserNode) => (audience === 'admin' ? view.suspendedReason : null),
  projects: async (node: UserNode, args: UserProjectsArgs, ctx: AccessContext) =>
    toConnection(await projectsOfUser(ctx.deps, ctx, node, { ...args, role: args.role ? fromProjectRole(args.role) : undefined })),
};

import type { MutationAdminRevokeUserSessionsArgs, MutationAdminUpdateUserArgs } from '../generated/resolvers-types.js';
import type { AccessContext } from '../context.js';
import { revokeUserSessions, updateUser } from '../services/admin-users.js';
import type { UserNode } from '../services/users.js';
import { fromUserRole, fromUserStatus } from './mappers.js';

/** Operator mutations; each writes its audit_logs row in the service's transaction. */
export const adminMutations = {
  adminUpdateUser: async (_: unknown, { input }: MutationAdminUpdateUserArgs, ctx: AccessContext): Promise<UserNode> => {
    const view = await updateUser(ctx.deps, ctx, {
      id: input.id,
      status: input.status ? fromUserStatus(input.status) : null,
      role: input.role ? fromUserRole(input.role) : null,
      reason: input.reason,
    });
    return { view, audience: 'admin' };
  },

  adminRevokeUserSessions: (_: unknown, { input }: MutationAdminRevokeUserSessionsArgs, ctx: AccessContext) =>
    revokeUserSessions(ctx.deps, ctx, input),
};

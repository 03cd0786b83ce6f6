import type {
  MutationChangePasswordArgs,
  MutationCreateSshKeyArgs,
  MutationDeleteSshKeyArgs,
  MutationUpdateMeArgs,
} from '../generated/resolvers-types.js';
import type { AccessContext } from '../context.js';
import { changePassword, updateMe } from '../services/accounts.js';
import { createSshKey, deleteSshKey } from '../services/ssh-keys.js';
import type { UserNode } from '../services/users.js';

/** The caller's own profile, password and SSH keys. */
export const meMutations = {
  updateMe: async (_: unknown, { input }: MutationUpdateMeArgs, ctx: AccessContext): Promise<UserNode> => ({
    view: await updateMe(ctx.deps, ctx, input),
    audience: 'self',
  }),

  changePassword: (_: unknown, { input }: MutationChangePasswordArgs, ctx: AccessContext) => changePassword(ctx.deps, ctx, input),

  createSshKey: (_: unknown, { input }: MutationCreateSshKeyArgs, ctx: AccessContext) => createSshKey(ctx.deps, ctx, input),

  deleteSshKey: (_: unknown, { input }: MutationDeleteSshKeyArgs, ctx: AccessContext) => deleteSshKey(ctx.deps, ctx, input.id),
};

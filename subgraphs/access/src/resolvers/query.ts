import type {
  QueryAdminUserArgs,
  QueryAdminUsersArgs,
  QueryOidcProvidersArgs,
  QueryProjectArgs,
  QueryProjectsArgs,
  QuerySshKeyArgs,
  QuerySshKeysArgs,
} from '../generated/resolvers-types.js';
import type { AccessContext } from '../context.js';
import { getMe } from '../services/accounts.js';
import { getUser, listUsers } from '../services/admin-users.js';
import { listOidcProviders } from '../services/oidc-login.js';
import { getProject, listMyProjects } from '../services/projects.js';
import { getSshKey, listMySshKeys } from '../services/ssh-keys.js';
import type { UserNode } from '../services/users.js';
import { fromProjectRole, fromUserRole, fromUserStatus, orUndefined, toConnection } from './mappers.js';

export const Query = {
  me: async (_: unknown, __: unknown, ctx: AccessContext): Promise<UserNode> => ({ view: await getMe(ctx.deps, ctx), audience: 'self' }),

  oidcProviders: (_: unknown, args: QueryOidcProvidersArgs, ctx: AccessContext) => toConnection(listOidcProviders(ctx.deps, args.first, args.after)),

  sshKeys: async (_: unknown, args: QuerySshKeysArgs, ctx: AccessContext) => toConnection(await listMySshKeys(ctx.deps, ctx, args)),

  sshKey: (_: unknown, args: QuerySshKeyArgs, ctx: AccessContext) => getSshKey(ctx.deps, ctx, args.id),

  projects: async (_: unknown, args: QueryProjectsArgs, ctx: AccessContext) =>
    toConnection(await listMyProjects(ctx.deps, ctx, { ...args, role: args.role ? fromProjectRole(args.role) : undefined })),

  project: (_: unknown, args: QueryProjectArgs, ctx: AccessContext) => getProject(ctx.deps, ctx, args.id),

  adminUsers: async (_: unknown, args: QueryAdminUsersArgs, ctx: AccessContext) => {
    const filter = args.filter;
    const page = await listUsers(ctx.deps, ctx, {
      first: args.first,
      after: args.after,
      filter: filter
        ? {
            status: filter.status ? fromUserStatus(filter.status) : undefined,
            role: filter.role ? fromUserRole(filter.role) : undefined,
            q: orUndefined(filter.q),
            createdAfter: orUndefined(filter.createdAfter as Date | null | undefined),
            createdBefore: orUndefined(filter.createdBefore as Date | null | undefined),
          }
        : null,
    });
    return toConnection(page, (view): UserNode => ({ view, audience: 'admin' }));
  },

  adminUser: async (_: unknown, args: QueryAdminUserArgs, ctx: AccessContext): Promise<UserNode> => ({
    view: await getUser(ctx.deps, ctx, args.id),
    audience: 'admin',
  }),
};

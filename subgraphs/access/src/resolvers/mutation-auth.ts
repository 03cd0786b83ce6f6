import type {
  MutationCompleteOidcLoginArgs,
  MutationConfirmPasswordResetArgs,
  MutationLoginArgs,
  MutationLogoutArgs,
  MutationRefreshTokensArgs,
  MutationRegisterArgs,
  MutationRequestPasswordResetArgs,
  MutationStartOidcLoginArgs,
} from '../generated/resolvers-types.js';
import type { AccessContext } from '../context.js';
import { confirmPasswordReset, login, register, requestPasswordReset } from '../services/accounts.js';
import { completeOidcLogin, startOidcLogin } from '../services/oidc-login.js';
import { logout, refreshTokens } from '../services/sessions.js';
import type { UserNode } from '../services/users.js';

/** Sign-up, logins and tokens: the operations an anonymous caller may use (logout aside). */
export const authMutations = {
  register: async (_: unknown, { input }: MutationRegisterArgs, ctx: AccessContext) => {
    const registration = await register(ctx.deps, ctx, input);
    const user: UserNode = { view: registration.user, audience: 'self' };
    return { user, tokens: registration.tokens };
  },

  login: (_: unknown, { input }: MutationLoginArgs, ctx: AccessContext) => login(ctx.deps, ctx, input),

  requestPasswordReset: (_: unknown, { input }: MutationRequestPasswordResetArgs, ctx: AccessContext) => requestPasswordReset(ctx.deps, ctx, input),

  confirmPasswordReset: (_: unknown, { input }: MutationConfirmPasswordResetArgs, ctx: AccessContext) => confirmPasswordReset(ctx.deps, ctx, input),

  refreshTokens: (_: unknown, { input }: MutationRefreshTokensArgs, ctx: AccessContext) => refreshTokens(ctx.deps, ctx, input.refreshToken),

  logout: (_: unknown, { input }: MutationLogoutArgs, ctx: AccessContext) => logout(ctx.deps, ctx, input),

  startOidcLogin: (_: unknown, { input }: MutationStartOidcLoginArgs, ctx: AccessContext) => startOidcLogin(ctx.deps, ctx, input),

  completeOidcLogin: (_: unknown, { input }: MutationCompleteOidcLoginArgs, ctx: AccessContext) => completeOidcLogin(ctx.deps, ctx, input),
};

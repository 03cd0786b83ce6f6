import type { OperationHandlers } from '../registry.js';
import { documentsBeside, field, graphqlOperation, inputFrom, noContent, page, pageQuery, pick } from '../graphql-operation.js';

const doc = documentsBeside(import.meta.url);

interface OidcAuthorization {
  readonly authorizationUrl: string;
}

/** Logins, tokens and OIDC: everything under /api/v1/auth. */
export const authHandlers = {
  listOidcProviders: graphqlOperation({ document: doc('list-oidc-providers'), variables: pageQuery(), respond: page('oidcProviders') }),
  startOidcLogin: graphqlOperation({
    document: doc('start-oidc-login'),
    variables: (ctx) => ({ input: { provider: ctx.params['provider'], ...pick(ctx.query, ['redirect_uri', 'login_hint']) } }),
    // A browser navigates here: send it on to the provider. The URL carries a one-use state, so no cache may keep it.
    respond: (data) => ({
      status: 302,
      headers: { location: (data['startOidcLogin'] as OidcAuthorization).authorizationUrl, 'cache-control': 'no-store' },
    }),
  }),
  completeOidcLogin: graphqlOperation({
    document: doc('complete-oidc-login'),
    variables: (ctx) => ({ input: { provider: ctx.params['provider'], ...pick(ctx.query, ['code', 'state', 'iss']) } }),
    respond: field('completeOidcLogin'),
  }),
  registerPersonalAccount: graphqlOperation({ document: doc('register'), variables: inputFrom(), respond: field('register', 201) }),
  loginPersonal: graphqlOperation({ document: doc('login'), variables: inputFrom(), respond: field('login') }),
  requestPasswordReset: graphqlOperation({
    document: doc('request-password-reset'),
    variables: inputFrom(),
    respond: () => ({ status: 202, body: { status: 'accepted' } }),
  }),
  confirmPasswordReset: graphqlOperation({ document: doc('confirm-password-reset'), variables: inputFrom(), respond: noContent }),
  refreshToken: graphqlOperation({ document: doc('refresh-tokens'), variables: inputFrom(), respond: field('refreshTokens') }),
  logout: graphqlOperation({ document: doc('logout'), variables: inputFrom(), respond: noContent }),
} satisfies OperationHandlers;

import { uuidv7, withTransaction } from '@gpuaas/db';
import { AppError, NotFound, Validation } from '@gpuaas/errors';
import { isRedirectUriAllowed, loginRefused, type OidcIdentity, type OidcProviderConfig } from '@gpuaas/oidc';
import { isUniqueViolation, type Db } from '../repositories/db.js';
import { findOidcIdentity, insertOidcIdentity, touchOidcIdentity } from '../repositories/oidc-identities.js';
import { findUserByEmail, lockUser, markEmailVerified, type UserRecord } from '../repositories/users.js';
import type { AccessDeps, Caller } from './deps.js';
import { createAccount } from './new-account.js';
import { limitPerIp } from './rate-limits.js';
import { startSession, type TokenPair } from './sessions.js';

export interface OidcProviderSummary {
  readonly id: string;
  readonly displayName: string;
}

export interface OidcProviderPage {
  readonly items: readonly { readonly node: OidcProviderSummary; readonly cursor: string }[];
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
}

/** The configured providers in display order; the list is short and static, so the cursor is a position. */
export function listOidcProviders(deps: AccessDeps, first: number | null | undefined, after: string | null | undefined): OidcProviderPage {
  const size = first ?? 50;
  const start = after === null || after === undefined ? 0 : positionAfter(after);
  const issues = [];
  if (!Number.isInteger(size) || size < 1 || size > 200) issues.push({ field: 'query.limit', message: 'must be an integer from 1 to 200' });
  if (start === null) issues.push({ field: 'query.cursor', message: 'is not a cursor this listing issued' });
  if (issues.length > 0) throw Validation(issues);
  const all = deps.oidcClients.providers;
  const from = start ?? 0;
  const items = all.slice(from, from + size).map((provider, index) => ({
    node: { id: provider.id, displayName: provider.displayName },
    cursor: Buffer.from(JSON.stringify({ p: from + index + 1 })).toString('base64url'),
  }));
  return { items, hasNextPage: from + size < all.length, endCursor: items.at(-1)?.cursor ?? null };
}

function positionAfter(cursor: string): number | null {
  try {
    const { p } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown };
    return typeof p === 'number' && Number.isSafeInteger(p) && p >= 0 ? p : null;
  } catch {
    return null;
  }
}

function providerOrNotFound(deps: AccessDeps, id: string): OidcProviderConfig {
  const provider = deps.oidcClients.provider(id);
  if (!provider) throw NotFound('OIDC provider');
  return provider;
}

/**
 * Starts the authorization code flow: a fresh state, nonce and PKCE verifier, kept in Redis (one use, 10 minutes)
 * bound to the provider and redirect URI, so the callback needs nothing but `code` and `state`.
 */
export async function startOidcLogin(
  deps: AccessDeps,
  caller: Caller,
  input: { provider: string; redirectUri?: string | null | undefined; loginHint?: string | null | undefined },
): Promise<{ authorizationUrl: string; state: string }> {
  const provider = providerOrNotFound(deps, input.provider);
  const { redirectUriAllowlist } = deps.config.oidc;
  const redirectUri = input.redirectUri ?? redirectUriAllowlist[0];
  const issues = [];
  if (redirectUri === undefined || !isRedirectUriAllowed(deps.config.oidc, redirectUri)) {
    issues.push({ field: 'query.redirect_uri', message: 'is not an allowed callback URL' });
  }
  if (input.loginHint !== undefined && input.loginHint !== null && input.loginHint.length > 254) {
    issues.push({ field: 'query.login_hint', message: 'must be at most 254 characters long' });
  }
  if (issues.length > 0 || redirectUri === undefined) throw Validation(issues);
  await limitPerIp(deps, caller, 'oidc');

  const client = deps.oidcClients.client(provider, redirectUri);
  const request = await client.beginLogin(input.loginHint ? { loginHint: input.loginHint } : {});
  await deps.loginStates.save(request.state, {
    provider: provider.id,
    nonce: request.nonce,
    codeVerifier: request.codeVerifier,
    redirectUri: client.redirectUri,
  });
  return { authorizationUrl: request.authorizationUrl, state: request.state };
}

/**
 * Finishes the flow and logs the user in. A known (provider, subject) logs into its user; an unseen one with a
 * verified email of an existing user is linked to it; an unverified matching email is `already_exists` (log in
 * with the password first); otherwise a new user with a personal project is created.
 */
export async function completeOidcLogin(
  deps: AccessDeps,
  caller: Caller,
  input: { provider: string; code: string; state: string; iss?: string | null | undefined },
): Promise<TokenPair> {
  const provider = providerOrNotFound(deps, input.provider);
  await limitPerIp(deps, caller, 'oidc');
  // ci-allow observability_trace_gate: a one-use OIDC login state read from Redis, not an event consumer
  const pending = await deps.loginStates.consume(input.state);
  if (pending.provider !== provider.id) throw loginRefused('state_mismatch');
  const client = deps.oidcClients.client(provider, pending.redirectUri);
  const identity = await client.completeLogin({
    code: input.code,
    state: input.state,
    // The REST callback carries only code and state. RFC 9207's `iss` guards against mix-ups between providers;
    // here the state is bound server-side to the provider the flow began with, so that provider's issuer is the
    // only one the response can be for. A differing `iss`, when the client does send one, is still refused.
    iss: input.iss ?? provider.issuer,
    expected: { state: input.state, nonce: pending.nonce, codeVerifier: pending.codeVerifier },
  });
  try {
    return await loginWithIdentity(deps, identity);
  } catch (error) {
    // Two first logins of the same subject raced; the loser finds the winner's user on a second pass.
    if (isUniqueViolation(error, 'oidc_identities_provider_subject_key')) return loginWithIdentity(deps, identity);
    throw error;
  }
}

async function loginWithIdentity(deps: AccessDeps, identity: OidcIdentity): Promise<TokenPair> {
  return withTransaction(deps.pool, async (client) => {
    const user = await userForIdentity(client, identity);
    if (user.status === 'suspended') throw new AppError('account_suspended', 'The account is suspended');
    return startSession(deps, client, user);
  });
}

async function userForIdentity(db: Db, identity: OidcIdentity): Promise<UserRecord> {
  const linked = await findOidcIdentity(db, identity.providerId, identity.subject);
  if (linked) {
    await touchOidcIdentity(db, linked.userId, linked.id, identity.email);
    return (await lockUser(db, linked.userId)) as UserRecord;
  }
  if (identity.email === null) throw loginRefused('id_token_invalid', { missing_claim: 'email' });

  const existing = await findUserByEmail(db, identity.email);
  let userId: string;
  if (existing) {
    if (!identity.emailVerified) {
      throw new AppError('already_exists', 'An account with this email exists; log in with its password first to link this provider', {
        reason: 'email_unverified',
      });
    }
    userId = existing.id;
    await markEmailVerified(db, userId);
  } else {
    const displayName = defaultDisplayName(identity.name, identity.email);
    userId = await createAccount(db, { email: identity.email, displayName, passwordHash: null, emailVerified: identity.emailVerified });
  }
  await insertOidcIdentity(db, userId, { id: uuidv7(), provider: identity.providerId, subject: identity.subject, email: identity.email });
  return (await lockUser(db, userId)) as UserRecord;
}

/** The provider's name, else the email's local part: trimmed, at most 100 characters (code points), never empty. */
function defaultDisplayName(name: string | null, email: string): string {
  const candidate = (name ?? '').replace(/\p{Cc}/gu, ' ').trim() || email.slice(0, email.indexOf('@')) || email;
  return [...candidate].slice(0, 100).join('');
}

import { AppError, Forbidden, Unauthenticated } from '@gpuaas/errors';
import { findUserView, type UserView } from '../repositories/users.js';
import type { AccessDeps, Caller } from './deps.js';

/** A signed-in caller whose account is active and whose token is still current. */
export interface Actor {
  readonly userId: string;
  readonly sessionId: string;
  readonly user: UserView;
  /** Platform admin: the token says so and the account still is one. */
  readonly isAdmin: boolean;
}

const actors = new WeakMap<Caller, Promise<Actor>>();

/**
 * Every operation except the anonymous ones (register, login, password reset, refresh, OIDC) starts here. The
 * gateway already checked the token and its Redis revocation marks; this re-checks against the database as a
 * second line: a suspended account, or a token older than `users.token_version`, is refused even if a mark was
 * lost. Memoised per request, so several fields of one query cost one lookup.
 */
export function requireActor(deps: AccessDeps, caller: Caller): Promise<Actor> {
  let actor = actors.get(caller);
  if (!actor) {
    actor = loadActor(deps, caller);
    actors.set(caller, actor);
  }
  return actor;
}

async function loadActor(deps: AccessDeps, caller: Caller): Promise<Actor> {
  const { identity } = caller;
  if (identity.userId === null) throw Unauthenticated('This operation needs a signed-in user');
  const user = await findUserView(deps.pool, identity.userId);
  if (!user) throw new AppError('unauthenticated', 'The access token is invalid', { reason: 'unknown_user' });
  if (user.status === 'suspended') throw new AppError('account_suspended', 'The account is suspended');
  if (identity.tokenVersion < user.tokenVersion) {
    throw new AppError('unauthenticated', 'The access token has been revoked', { reason: 'tokens_revoked' });
  }
  if (await deps.revocations.isSessionRevoked(identity.sessionId)) {
    throw new AppError('unauthenticated', 'The access token has been revoked', { reason: 'session_revoked' });
  }
  return { userId: user.id, sessionId: identity.sessionId, user, isAdmin: identity.role === 'admin' && user.role === 'admin' };
}

/** Operator-only operations; everyone else gets `forbidden`. */
export async function requireAdmin(deps: AccessDeps, caller: Caller): Promise<Actor> {
  const actor = await requireActor(deps, caller);
  if (!actor.isAdmin) throw Forbidden('This operation needs the admin role');
  return actor;
}

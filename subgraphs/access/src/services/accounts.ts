import {
  PASSWORD_RESET_TOKEN_PREFIX,
  checkPasswordPolicy,
  generatePasswordResetToken,
  hasTokenShape,
  hashPassword,
  hashToken,
  needsRehash,
  verifyAgainstDummy,
  verifyPassword,
} from '@gpuaas/auth';
import { uuidv7, withTransaction } from '@gpuaas/db';
import { AppError } from '@gpuaas/errors';
import {
  consumeResetToken,
  deleteUnusedResetTokens,
  findUsableResetToken,
  insertResetToken,
} from '../repositories/password-resets.js';
import { revokeAllFamilies } from '../repositories/refresh-tokens.js';
import { findUserByEmail, findUserView, setPasswordHash, updateDisplayName, type UserView } from '../repositories/users.js';
import { requireActor } from './actor.js';
import type { AccessDeps, Caller } from './deps.js';
import { createAccount } from './new-account.js';
import { assertAccountNotLocked, countFailedLogin, failedLoginBucket, limitPerEmail, limitPerIp } from './rate-limits.js';
import { startSession, type TokenPair } from './sessions.js';
import { Issues, displayName as checkDisplayName, email as checkEmail } from './validation.js';

const invalidCredentials = () => new AppError('invalid_credentials', 'The email or password is incorrect');

export interface Registration {
  readonly user: UserView;
  readonly tokens: TokenPair;
}

/**
 * Sign-up: the user, their personal project and a first session in one transaction. A taken email answers
 * `already_exists` (the contract's decision), so sign-up is rate limited per IP and per email, and the password is
 * hashed before the email is looked at so both answers take the same time.
 */
export async function register(
  deps: AccessDeps,
  caller: Caller,
  input: { email: string; password: string; displayName: string },
): Promise<Registration> {
  const issues = new Issues();
  const email = checkEmail(issues, input.email, 'body.email');
  const name = checkDisplayName(issues, input.displayName);
  issues.addAll(checkPasswordPolicy(input.password, { email, field: 'body.password' }));
  issues.throwIfAny();
  await limitPerIp(deps, caller, 'register');
  await limitPerEmail(deps, 'register', email);

  const passwordHash = await hashPassword(input.password);
  return withTransaction(deps.pool, async (client) => {
    const userId = await createAccount(client, { email, displayName: name, passwordHash, emailVerified: false });
    const tokens = await startSession(deps, client, { id: userId, role: 'user', tokenVersion: 0 });
    return { user: (await findUserView(client, userId)) as UserView, tokens };
  });
}

/**
 * Password login. Unknown email and wrong password answer the same `invalid_credentials` after the same work (a
 * dummy hash is verified for unknown emails); suspension is only revealed once the password matched. Every attempt
 * counts against the client IP, failed ones against the account.
 */
export async function login(deps: AccessDeps, caller: Caller, input: { email: string; password: string }): Promise<TokenPair> {
  const email = input.email.trim();
  await limitPerIp(deps, caller, 'login');
  await assertAccountNotLocked(deps, email);

  const user = await findUserByEmail(deps.pool, email);
  const matched = user?.passwordHash ? await verifyPassword(input.password, user.passwordHash) : await verifyAgainstDummy(input.password);
  if (!user || !matched) {
    await countFailedLogin(deps, email);
    throw invalidCredentials();
  }
  if (user.status === 'suspended') throw new AppError('account_suspended', 'The account is suspended');
  await deps.rateLimiter.reset(failedLoginBucket(email));

  const rehash = user.passwordHash !== null && needsRehash(user.passwordHash) ? await hashPassword(input.password) : null;
  return withTransaction(deps.pool, async (client) => {
    if (rehash) await setPasswordHash(client, user.id, rehash, { bumpTokenVersion: false });
    return startSession(deps, client, user);
  });
}

/**
 * Always answers true, in about the same time, whether or not the email has an account (no email oracle). For an
 * active account a one-time token is mailed and any earlier unused token is dropped.
 */
export async function requestPasswordReset(deps: AccessDeps, caller: Caller, input: { email: string }): Promise<boolean> {
  const issues = new Issues();
  const email = checkEmail(issues, input.email, 'body.email');
  issues.throwIfAny();
  await limitPerIp(deps, caller, 'password-reset');
  await limitPerEmail(deps, 'password-reset', email);

  const token = generatePasswordResetToken();
  const user = await findUserByEmail(deps.pool, email);
  if (!user || user.status !== 'active') return true;
  const ttl = deps.config.policies.password_reset_token_ttl_seconds;
  const link = new URL(deps.config.passwordResetUrl);
  link.searchParams.set('token', token.token);
  await withTransaction(deps.pool, async (client) => {
    await deleteUnusedResetTokens(client, user.id);
    await insertResetToken(client, user.id, { id: uuidv7(), tokenHash: token.hash, expiresAt: new Date(Date.now() + ttl * 1000) });
    await deps.mail.send(client, {
      to: user.email,
      subject: 'Reset your GPUaaS password',
      body: [
        `Someone asked to reset the password of your GPUaaS account ${user.email}.`,
        `Open ${link.href} within ${Math.round(ttl / 60)} minutes, or paste this one-time token: ${token.token}`,
        'If it was not you, ignore this message; your password stays as it is.',
      ].join('\n\n'),
    });
  });
  return true;
}

/**
 * Consumes a reset token and sets the new password; every session of the user ends (refresh families revoked,
 * token version bumped). A weak password is refused before the token is consumed, so the link still works.
 */
export async function confirmPasswordReset(deps: AccessDeps, caller: Caller, input: { token: string; newPassword: string }): Promise<boolean> {
  await limitPerIp(deps, caller, 'password-reset-confirm');
  const refused = () => new AppError('invalid_credentials', 'The reset token is invalid, expired or already used');
  if (!hasTokenShape(input.token, PASSWORD_RESET_TOKEN_PREFIX)) throw refused();
  const record = await findUsableResetToken(deps.pool, hashToken(input.token));
  const user = record ? await findUserView(deps.pool, record.userId) : null;
  if (!record || !user) throw refused();

  const issues = new Issues();
  issues.addAll(checkPasswordPolicy(input.newPassword, { email: user.email, field: 'body.new_password' }));
  issues.throwIfAny();
  const passwordHash = await hashPassword(input.newPassword);

  const { tokenVersion, familyIds } = await withTransaction(deps.pool, async (client) => {
    if (!(await consumeResetToken(client, user.id, record.id))) throw refused();
    const version = await setPasswordHash(client, user.id, passwordHash, { bumpTokenVersion: true });
    const revoked = await revokeAllFamilies(client, user.id, 'password_reset');
    return { tokenVersion: version, familyIds: revoked.familyIds };
  });
  const ttl = deps.config.policies.access_token_ttl_seconds;
  await deps.revocations.markUserTokensRevokedBefore(user.id, tokenVersion, ttl);
  await deps.revocations.revokeSessions(familyIds, ttl);
  await deps.rateLimiter.reset(failedLoginBucket(user.email));
  return true;
}

/**
 * Changes the caller's password and ends their other sessions; the calling session stays valid. A user with a
 * password must give it (a wrong one counts as a failed login); an OIDC-only user may set a first one without.
 */
export async function changePassword(
  deps: AccessDeps,
  caller: Caller,
  input: { currentPassword?: string | null | undefined; newPassword: string },
): Promise<boolean> {
  const actor = await requireActor(deps, caller);
  const { user } = actor;
  const issues = new Issues();
  if (user.passwordHash !== null && (input.currentPassword === undefined || input.currentPassword === null || input.currentPassword === '')) {
    issues.add('body.current_password', 'is required because the account has a password');
  }
  issues.addAll(checkPasswordPolicy(input.newPassword, { email: user.email, field: 'body.new_password' }));
  issues.throwIfAny();

  if (user.passwordHash !== null) {
    await assertAccountNotLocked(deps, user.email);
    if (!(await verifyPassword(input.currentPassword ?? '', user.passwordHash))) {
      await countFailedLogin(deps, user.email);
      throw new AppError('invalid_credentials', 'The current password is incorrect');
    }
  }
  const passwordHash = await hashPassword(input.newPassword);
  const familyIds = await withTransaction(deps.pool, async (client) => {
    await setPasswordHash(client, user.id, passwordHash, { bumpTokenVersion: false });
    const revoked = await revokeAllFamilies(client, user.id, 'password_reset', { exceptFamilyId: actor.sessionId });
    return revoked.familyIds;
  });
  await deps.revocations.revokeSessions(familyIds, deps.config.policies.access_token_ttl_seconds);
  return true;
}

export async function getMe(deps: AccessDeps, caller: Caller): Promise<UserView> {
  return (await requireActor(deps, caller)).user;
}

export async function updateMe(deps: AccessDeps, caller: Caller, input: { displayName: string }): Promise<UserView> {
  const actor = await requireActor(deps, caller);
  const issues = new Issues();
  const name = checkDisplayName(issues, input.displayName);
  issues.throwIfAny();
  await updateDisplayName(deps.pool, actor.userId, name);
  return (await findUserView(deps.pool, actor.userId)) as UserView;
}

import type { PlatformRole } from '@gpuaas/auth';
import { recordAudit, withTransaction } from '@gpuaas/db';
import { AppError, NotFound, Validation } from '@gpuaas/errors';
import { isUuid, pageRequest, toPage, type Page } from '../pagination.js';
import { revokeAllFamilies } from '../repositories/refresh-tokens.js';
import {
  applyAdminChange,
  bumpTokenVersion,
  findUserView,
  listUsers as listUserRows,
  lockUser,
  type UserListFilter,
  type UserStatus,
  type UserView,
} from '../repositories/users.js';
import { requireAdmin } from './actor.js';
import type { AccessDeps, Caller } from './deps.js';
import { Issues, reason as checkReason } from './validation.js';

const userNotFound = () => NotFound('User');

export interface AdminUserListArgs {
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
  readonly filter?: UserListFilter | null | undefined;
}

export async function listUsers(deps: AccessDeps, caller: Caller, args: AdminUserListArgs): Promise<Page<UserView>> {
  await requireAdmin(deps, caller);
  const page = pageRequest(args.first, args.after);
  const filter = args.filter ?? {};
  if (filter.q !== undefined && (filter.q.length < 1 || filter.q.length > 254)) {
    throw Validation([{ field: 'query.q', message: 'must be 1 to 254 characters long' }]);
  }
  const rows = await listUserRows(deps.pool, filter, page);
  return toPage(rows, page, (row) => ({ ts: row.cursorTs, id: row.id }));
}

export async function getUser(deps: AccessDeps, caller: Caller, userId: string): Promise<UserView> {
  await requireAdmin(deps, caller);
  const user = isUuid(userId) ? await findUserView(deps.pool, userId) : null;
  if (!user) throw userNotFound();
  return user;
}

export interface AdminUserChange {
  readonly id: string;
  readonly status?: UserStatus | null | undefined;
  readonly role?: PlatformRole | null | undefined;
  readonly reason?: string | null | undefined;
}

/**
 * Suspends, reactivates or changes the role of a user, writing one audit row per change in the same transaction.
 * Suspension revokes every refresh family and bumps the token version; after commit Redis marks make the gateway
 * refuse the user's access tokens at once (`account_suspended`). A role change bumps the version too, so the old
 * role's tokens stop working. An admin cannot suspend or demote themselves. Setting current values is a no-op.
 */
export async function updateUser(deps: AccessDeps, caller: Caller, input: AdminUserChange): Promise<UserView> {
  const admin = await requireAdmin(deps, caller);
  const issues = new Issues();
  if (!input.status && !input.role) issues.add('body', 'must change the status or the role');
  const why = input.reason === undefined || input.reason === null ? null : checkReason(issues, input.reason);
  if (input.status === 'suspended' && why === null) issues.add('body.reason', 'is required when suspending');
  issues.throwIfAny();
  if (!isUuid(input.id)) throw userNotFound();
  if (input.id === admin.userId && (input.status === 'suspended' || input.role === 'user')) {
    throw new AppError('unprocessable', 'Admins cannot suspend or demote themselves');
  }

  const outcome = await withTransaction(deps.pool, async (client) => {
    const before = await lockUser(client, input.id);
    if (!before) throw userNotFound();
    const status = input.status ?? before.status;
    const role = input.role ?? before.role;
    const suspending = status === 'suspended' && before.status !== 'suspended';
    const unsuspending = status === 'active' && before.status === 'suspended';
    const roleChanged = role !== before.role;
    if (!suspending && !unsuspending && !roleChanged) return null;

    const revoked = suspending ? await revokeAllFamilies(client, before.id, 'user_suspended') : { familyIds: [], liveFamilies: 0 };
    const tokenVersion = await applyAdminChange(client, before.id, {
      status,
      role,
      suspendedReason: status === 'suspended' ? (suspending ? why : before.suspendedReason) : null,
      bumpTokenVersion: suspending || roleChanged,
    });
    const common = {
      domain: 'access' as const,
      actorKind: 'admin' as const,
      actorId: admin.userId,
      targetType: 'user',
      targetId: before.id,
      correlationId: caller.correlationId,
    };
    const change = { before: { status: before.status, role: before.role }, after: { status, role }, reason: why };
    if (suspending) await recordAudit(client, { ...common, action: 'user.suspend', details: { ...change, revoked_sessions: revoked.liveFamilies } });
    if (unsuspending) await recordAudit(client, { ...common, action: 'user.unsuspend', details: change });
    if (roleChanged) await recordAudit(client, { ...common, action: 'user.role_change', details: change });
    return { suspended: status === 'suspended', bumped: suspending || roleChanged, tokenVersion, familyIds: revoked.familyIds };
  });

  if (outcome?.bumped) {
    const ttl = deps.config.policies.access_token_ttl_seconds;
    await deps.revocations.markUserTokensRevokedBefore(input.id, outcome.tokenVersion, ttl, outcome.suspended ? 'account_suspended' : 'tokens_revoked');
    await deps.revocations.revokeSessions(outcome.familyIds, ttl);
  }
  return (await findUserView(deps.pool, input.id)) as UserView;
}

/**
 * Logs a user out everywhere (every refresh family revoked, token version bumped so every access token dies at
 * once); the account stays active. Audited with the number of sessions that were still live.
 */
export async function revokeUserSessions(
  deps: AccessDeps,
  caller: Caller,
  input: { id: string; reason: string },
): Promise<{ userId: string; revokedSessions: number }> {
  const admin = await requireAdmin(deps, caller);
  const issues = new Issues();
  const why = checkReason(issues, input.reason);
  issues.throwIfAny();
  if (!isUuid(input.id)) throw userNotFound();

  const outcome = await withTransaction(deps.pool, async (client) => {
    const user = await lockUser(client, input.id);
    if (!user) throw userNotFound();
    const revoked = await revokeAllFamilies(client, user.id, 'admin_revoked');
    const tokenVersion = await bumpTokenVersion(client, user.id);
    await recordAudit(client, {
      domain: 'access',
      actorKind: 'admin',
      actorId: admin.userId,
      action: 'user.sessions_revoke',
      targetType: 'user',
      targetId: user.id,
      correlationId: caller.correlationId,
      details: { reason: why, revoked_sessions: revoked.liveFamilies },
    });
    return { tokenVersion, revoked, suspended: user.status === 'suspended' };
  });
  const ttl = deps.config.policies.access_token_ttl_seconds;
  // A suspended user's old tokens keep answering `account_suspended` at the gateway, not a bare revocation.
  const cause = outcome.suspended ? 'account_suspended' : 'tokens_revoked';
  await deps.revocations.markUserTokensRevokedBefore(input.id, outcome.tokenVersion, ttl, cause);
  await deps.revocations.revokeSessions(outcome.revoked.familyIds, ttl);
  return { userId: input.id, revokedSessions: outcome.revoked.liveFamilies };
}

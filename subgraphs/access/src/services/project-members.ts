import type pg from 'pg';
import { recordAudit, withTransaction } from '@gpuaas/db';
import { AppError, NotFound, type ErrorDetails } from '@gpuaas/errors';
import { isUuid } from '../pagination.js';
import type { Db } from '../repositories/db.js';
import { deleteMember, findMember, insertMember, updateMemberRole, type MemberView } from '../repositories/project-members.js';
import { findProjectForMember, setProjectOwner, type ProjectRole, type ProjectView } from '../repositories/projects.js';
import { findUserByEmail, findUserView, type UserRecord } from '../repositories/users.js';
import { requireActor, type Actor } from './actor.js';
import type { AccessDeps, Caller } from './deps.js';
import { judgeAddition, judgeRemoval, judgeRoleChange, unprocessable } from './project-roles.js';
import { MEMBER_ADDS_PER_CALLER_PER_15M, FIFTEEN_MINUTES } from './rate-limits.js';
import { Issues, email as checkEmail } from './validation.js';

/** Locks the project for the member change and checks the actor belongs to it (else `not_found`, like a missing one). */
async function projectForChange(db: Db, actor: Actor, projectId: string): Promise<ProjectView> {
  const project = isUuid(projectId) ? await findProjectForMember(db, actor.userId, projectId, { lock: true }) : null;
  if (!project) throw NotFound('Project');
  return project;
}

async function memberOrNotFound(db: Db, projectId: string, userId: string): Promise<MemberView> {
  const member = isUuid(userId) ? await findMember(db, projectId, userId) : null;
  if (!member) throw NotFound('Project member');
  return member;
}

/** Member changes are audited in their transaction, like operator mutations. */
function audit(db: pg.PoolClient, actor: Actor, caller: Caller, action: string, projectId: string, details: ErrorDetails) {
  return recordAudit(db, {
    domain: 'access',
    actorKind: 'user',
    actorId: actor.userId,
    action,
    targetType: 'project',
    targetId: projectId,
    correlationId: caller.correlationId,
    details: { ...details },
  });
}

async function targetUser(db: Db, email: string | null, userId: string | null | undefined): Promise<UserRecord | null> {
  if (email !== null) return findUserByEmail(db, email);
  return typeof userId === 'string' && isUuid(userId) ? findUserView(db, userId) : null;
}

export interface AddMemberInput {
  readonly projectId: string;
  readonly email?: string | null | undefined;
  readonly userId?: string | null | undefined;
  readonly role: ProjectRole;
}

/**
 * Owner or admin adds an existing, active user by email or id. Unknown and suspended users answer alike
 * (`not_found`), and additions are rate limited per caller, so this is no email oracle. Audited.
 */
export async function addProjectMember(deps: AccessDeps, caller: Caller, input: AddMemberInput): Promise<MemberView> {
  const actor = await requireActor(deps, caller);
  const issues = new Issues();
  const byEmail = input.email !== undefined && input.email !== null;
  const byId = input.userId !== undefined && input.userId !== null;
  if (byEmail === byId) issues.add('body', 'name the user by exactly one of email or user_id');
  const email = byEmail ? checkEmail(issues, input.email as string, 'body.email') : null;
  issues.throwIfAny();
  await deps.rateLimiter.assertAllowed(`member-add:user:${actor.userId}`, { limit: MEMBER_ADDS_PER_CALLER_PER_15M, windowSeconds: FIFTEEN_MINUTES });

  return withTransaction(deps.pool, async (client) => {
    const project = await projectForChange(client, actor, input.projectId);
    judgeAddition(project.role, input.role);
    if (project.personal) throw unprocessable('A personal project cannot have other members');
    const target = await targetUser(client, email, input.userId);
    if (!target || target.status !== 'active') throw NotFound('User');
    if (await findMember(client, project.id, target.id)) {
      throw new AppError('already_exists', 'The user is already a member of this project');
    }
    await insertMember(client, project.id, target.id, input.role);
    await audit(client, actor, caller, 'project.member_add', project.id, { user_id: target.id, role: input.role });
    return (await findMember(client, project.id, target.id)) as MemberView;
  });
}

/**
 * Changes a member's role, or transfers ownership (`role: OWNER`, owner only: the previous owner becomes admin,
 * demoted before the new owner is promoted because a project has exactly one owner row). Audited.
 */
export async function updateProjectMember(
  deps: AccessDeps,
  caller: Caller,
  input: { projectId: string; userId: string; role: ProjectRole },
): Promise<MemberView> {
  const actor = await requireActor(deps, caller);
  return withTransaction(deps.pool, async (client) => {
    const project = await projectForChange(client, actor, input.projectId);
    const target = await memberOrNotFound(client, project.id, input.userId);
    const verdict = judgeRoleChange({ userId: actor.userId, role: project.role }, target, input.role);
    if (verdict === 'unchanged') return target;
    if (verdict === 'transfer') {
      await updateMemberRole(client, project.id, actor.userId, 'admin');
      await updateMemberRole(client, project.id, target.userId, 'owner');
      await setProjectOwner(client, project.id, target.userId);
      await audit(client, actor, caller, 'project.ownership_transfer', project.id, { from_user_id: actor.userId, to_user_id: target.userId });
    } else {
      await updateMemberRole(client, project.id, target.userId, input.role);
      await audit(client, actor, caller, 'project.member_role_change', project.id, { user_id: target.userId, before: target.role, after: input.role });
    }
    return (await findMember(client, project.id, target.userId)) as MemberView;
  });
}

/** Owner or admin removes a member, or any non-owner member leaves. Audited. */
export async function removeProjectMember(deps: AccessDeps, caller: Caller, input: { projectId: string; userId: string }): Promise<boolean> {
  const actor = await requireActor(deps, caller);
  return withTransaction(deps.pool, async (client) => {
    const project = await projectForChange(client, actor, input.projectId);
    const target = await memberOrNotFound(client, project.id, input.userId);
    judgeRemoval({ userId: actor.userId, role: project.role }, target);
    await deleteMember(client, project.id, target.userId);
    const action = target.userId === actor.userId ? 'project.member_leave' : 'project.member_remove';
    await audit(client, actor, caller, action, project.id, { user_id: target.userId, role: target.role });
    return true;
  });
}

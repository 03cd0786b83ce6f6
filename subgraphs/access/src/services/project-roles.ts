import { AppError, Conflict, Forbidden, Validation } from '@gpuaas/errors';
import type { ProjectRole } from '../repositories/projects.js';

export type { ProjectRole };

/**
 * The contract's ProjectRole capabilities that access itself enforces: owner and admin manage members and
 * settings (admins cannot touch the owner or other admins); only the owner deletes the project, transfers
 * ownership, or grants and removes `admin`. `viewer` and `member` only read here.
 */
export const canManageMembers = (role: ProjectRole): boolean => role === 'owner' || role === 'admin';
export const canEditSettings = canManageMembers;
export const canDeleteProject = (role: ProjectRole): boolean => role === 'owner';

interface Party {
  readonly userId: string;
  readonly role: ProjectRole;
}

export type RoleChangeVerdict = 'change' | 'transfer' | 'unchanged';

/** Decides a role change of `target` by `actor`; throws the catalog error when it is not allowed. */
export function judgeRoleChange(actor: Party, target: Party, wanted: ProjectRole): RoleChangeVerdict {
  if (!canManageMembers(actor.role)) throw Forbidden('Only the project owner or an admin may change roles');
  if (wanted === 'owner') {
    if (actor.role !== 'owner') throw Forbidden('Only the owner may transfer ownership');
    return target.role === 'owner' ? 'unchanged' : 'transfer';
  }
  if (target.role === 'owner') {
    if (actor.role === 'owner') throw Conflict("The owner's role cannot be lowered; transfer ownership first");
    throw Forbidden('Admins cannot change the owner');
  }
  if (wanted === target.role) return 'unchanged';
  if ((wanted === 'admin' || target.role === 'admin') && actor.role !== 'owner') {
    throw Forbidden('Only the owner may grant or take away the admin role');
  }
  return 'change';
}

/** Adding a member with `role`; `owner` is never granted this way (ownership is transferred). */
export function judgeAddition(actorRole: ProjectRole, role: ProjectRole): void {
  if (!canManageMembers(actorRole)) throw Forbidden('Only the project owner or an admin may add members');
  if (role === 'owner') throw Validation([{ field: 'body.role', message: 'must be admin, member or viewer; transfer ownership to make someone owner' }]);
  if (role === 'admin' && actorRole !== 'owner') throw Forbidden('Only the owner may add an admin');
}

/** Removing `target` (or leaving, when it is the actor): the owner never goes this way. */
export function judgeRemoval(actor: Party, target: Party): void {
  if (target.userId === actor.userId) {
    if (target.role === 'owner') throw Conflict('The owner cannot leave the project; transfer ownership first');
    return;
  }
  if (!canManageMembers(actor.role)) throw Forbidden('Only the project owner or an admin may remove members');
  if (target.role === 'owner') throw Conflict('The owner cannot be removed; transfer ownership first');
  if (target.role === 'admin' && actor.role !== 'owner') throw Forbidden('Only the owner may remove an admin');
}

export function unprocessable(message: string): AppError {
  return new AppError('unprocessable', message);
}

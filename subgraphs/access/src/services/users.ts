import { Forbidden, NotFound } from '@gpuaas/errors';
import { isUuid, type Page } from '../pagination.js';
import type { ProjectView } from '../repositories/projects.js';
import { findUserView, shareAProject, type UserView } from '../repositories/users.js';
import { requireActor } from './actor.js';
import type { AccessDeps, Caller } from './deps.js';
import { listProjectsOf, type ProjectFilter } from './projects.js';

/**
 * Who is looking at a user decides which fields they see: the user themself and operators see login and
 * suspension details (`lastLoginAt` for both, suspension for operators only), co-members see the profile.
 */
export type UserAudience = 'self' | 'admin' | 'member';

export interface UserNode {
  readonly view: UserView;
  readonly audience: UserAudience;
}

export function audienceFor(viewerId: string | null, viewerIsAdmin: boolean, user: UserView): UserAudience {
  if (viewerIsAdmin) return 'admin';
  return viewerId === user.id ? 'self' : 'member';
}

/** A user referenced by another subgraph: visible to themself, operators, and people who share a project with them. */
export async function resolveUserReference(deps: AccessDeps, caller: Caller, userId: string): Promise<UserNode> {
  const actor = await requireActor(deps, caller);
  const user = isUuid(userId) ? await findUserView(deps.pool, userId) : null;
  if (!user) throw NotFound('User');
  if (!actor.isAdmin && user.id !== actor.userId && !(await shareAProject(deps.pool, actor.userId, user.id))) throw NotFound('User');
  return { view: user, audience: audienceFor(actor.userId, actor.isAdmin, user) };
}

/** `User.projects`: only the user themself or an operator may list them; `myRole` is then the listed user's role. */
export async function projectsOfUser(deps: AccessDeps, caller: Caller, node: UserNode, filter: ProjectFilter): Promise<Page<ProjectView>> {
  const actor = await requireActor(deps, caller);
  if (actor.userId !== node.view.id && !actor.isAdmin) throw Forbidden("Only the user themself or an admin may list a user's projects");
  return listProjectsOf(deps, node.view.id, filter);
}

import type pg from 'pg';
import { Forbidden, NotFound, Unauthenticated } from '@gpuaas/errors';
import type { SubgraphContext } from '@gpuaas/service-kit';
import { prepared } from '@gpuaas/db';

/** The signed-in caller as the gateway verified it (token, revocation marks); compute trusts that assertion. */
export interface Actor {
  readonly userId: string;
  readonly isAdmin: boolean;
  readonly correlationId: string;
}

export function requireActor(caller: SubgraphContext): Actor {
  const { identity } = caller;
  if (identity.userId === null) throw Unauthenticated('This operation needs a signed-in user');
  return { userId: identity.userId, isAdmin: identity.role === 'admin', correlationId: caller.correlationId };
}

export function requireAdmin(caller: SubgraphContext): Actor {
  const actor = requireActor(caller);
  if (!actor.isAdmin) throw Forbidden('This operation needs the admin role');
  return actor;
}

export type ProjectRole = 'owner' | 'admin' | 'member' | 'viewer';
const MANAGING_ROLES: readonly ProjectRole[] = ['owner', 'admin', 'member'];

/** The caller's role in the project through access's read function; not a member answers like a missing project. */
export async function projectRoleOf(db: pg.Pool | pg.PoolClient, projectId: string, userId: string): Promise<ProjectRole | null> {
  const { rows } = await db.query<{ role: ProjectRole | null }>(prepared('SELECT access.project_role_of($1, $2) AS role', [projectId, userId]));
  return rows[0]?.role ?? null;
}

/** Members who may manage allocations (owner, admin, member); a viewer gets forbidden, a stranger not_found. */
export async function requireManagingRole(db: pg.Pool | pg.PoolClient, projectId: string, actor: Actor, what = 'Project'): Promise<void> {
  requireManagingRoleOf(await projectRoleOf(db, projectId, actor.userId), what);
}

/** The same judgement on a role already read (createAllocation reads it together with the rest of the request). */
export function requireManagingRoleOf(role: ProjectRole | null, what = 'Project'): void {
  if (role === null) throw NotFound(what);
  if (!MANAGING_ROLES.includes(role)) throw Forbidden('Your project role may not manage allocations');
}

import type pg from 'pg';
import { Forbidden, NotFound, Unauthenticated } from '@gpuaas/errors';
import type { SubgraphContext } from '@gpuaas/service-kit';

/** The signed-in caller as the gateway verified it; billing trusts that assertion. */
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

/** Project roles that may pay into the project's wallet; a viewer or member gets forbidden, a stranger not_found. */
const PAYING_ROLES = ['owner', 'admin'];

export async function requirePayingRole(db: pg.Pool | pg.ClientBase, projectId: string, actor: Actor): Promise<void> {
  const { rows } = await db.query<{ role: string | null }>('SELECT access.project_role_of($1, $2) AS role', [projectId, actor.userId]);
  const role = rows[0]?.role ?? null;
  if (role === null) throw NotFound('Project');
  if (!PAYING_ROLES.includes(role)) throw Forbidden('Your project role may not top up the project wallet');
}

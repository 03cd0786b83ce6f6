import { Forbidden, Unauthenticated } from '@gpuaas/errors';
import type { SubgraphContext } from '@gpuaas/service-kit';

/** The caller's user id; every platform read needs a signed-in user. */
export function requireUser(caller: SubgraphContext): string {
  const { userId } = caller.identity;
  if (userId === null) throw Unauthenticated('This operation needs a signed-in user');
  return userId;
}

/** Operator-only operations: the gateway-verified identity must carry the admin role. */
export function requireAdmin(caller: SubgraphContext): string {
  const userId = requireUser(caller);
  if (caller.identity.role !== 'admin') throw Forbidden('This operation needs the admin role');
  return userId;
}

export function isAdmin(caller: SubgraphContext): boolean {
  return caller.identity.userId !== null && caller.identity.role === 'admin';
}

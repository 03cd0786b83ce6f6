import type pg from 'pg';
import { NotFound } from '@gpuaas/errors';
import { projectRoleOf, type Actor } from './actor.js';
import type { AllocationStateName, AllocationView } from './model.js';
import { pageRequest, toPage, type Page } from './pagination.js';
import { findAllocationView, listAllocationViews, type AllocationFilter } from './repository.js';
import { isUuid } from './validation.js';

type Db = pg.Pool;

/** A member of the allocation's project reads it; anyone else gets not_found, exactly like a missing one. */
export async function getAllocation(db: Db, actor: Actor, id: string): Promise<AllocationView> {
  const view = isUuid(id) ? await findAllocationView(db, id) : undefined;
  if (!view || (await projectRoleOf(db, view.projectId, actor.userId)) === null) throw NotFound('Allocation');
  return view;
}

export async function adminGetAllocation(db: Db, id: string): Promise<AllocationView> {
  const view = isUuid(id) ? await findAllocationView(db, id) : undefined;
  if (!view) throw NotFound('Allocation');
  return view;
}

export interface ListAllocationsQuery {
  readonly projectId?: string | null;
  readonly states?: readonly AllocationStateName[] | null;
  readonly region?: string | null;
  readonly first?: number | null;
  readonly after?: string | null;
}

/** The caller's projects' allocations (or one project's: a project the caller is not in answers not_found). */
export async function listAllocations(db: Db, actor: Actor, query: ListAllocationsQuery): Promise<Page<AllocationView>> {
  const page = pageRequest(query.first, query.after);
  const filter: AllocationFilter = { ...common(query) };
  if (query.projectId) {
    if (!isUuid(query.projectId) || (await projectRoleOf(db, query.projectId, actor.userId)) === null) throw NotFound('Project');
    return toPage(await listAllocationViews(db, { ...filter, projectId: query.projectId }, page), page.first);
  }
  return toPage(await listAllocationViews(db, { ...filter, memberUserId: actor.userId }, page), page.first);
}

export interface AdminListAllocationsQuery extends ListAllocationsQuery {
  readonly nodeId?: string | null;
  readonly userId?: string | null;
}

export async function adminListAllocations(db: Db, query: AdminListAllocationsQuery): Promise<Page<AllocationView>> {
  const page = pageRequest(query.first, query.after);
  const ids = [query.projectId, query.nodeId, query.userId];
  // A filter that cannot match any id matches nothing (rather than a database type error).
  if (ids.some((value) => value && !isUuid(value))) return { items: [], hasNextPage: false, endCursor: null };
  const filter: AllocationFilter = {
    ...common(query),
    ...(query.projectId ? { projectId: query.projectId } : {}),
    ...(query.nodeId ? { nodeId: query.nodeId } : {}),
    ...(query.userId ? { userId: query.userId } : {}),
  };
  return toPage(await listAllocationViews(db, filter, page), page.first);
}

function common(query: ListAllocationsQuery): AllocationFilter {
  return {
    ...(query.states && query.states.length > 0 ? { states: query.states } : {}),
    ...(query.region ? { regionCode: query.region } : {}),
  };
}

import type pg from 'pg';
import { prepared } from '@gpuaas/db';
import type { AllocationRecord, AllocationStateName, AllocationView } from './model.js';
import type { PageRequest } from './pagination.js';
import { RECORD_COLUMNS, toRecord, toView, VIEW_SELECT, type RecordRow, type ViewRow } from './records.js';

type Db = pg.Pool | pg.PoolClient;

export async function findAllocationView(db: Db, id: string): Promise<AllocationView | undefined> {
  const { rows } = await db.query<ViewRow>(prepared(`${VIEW_SELECT} WHERE a.id = $1`, [id]));
  return rows[0] ? toView(rows[0]) : undefined;
}

/** The views of these allocations in one statement (any order; ids that name none are left out). */
export async function findAllocationViews(db: Db, ids: readonly string[]): Promise<AllocationView[]> {
  if (ids.length === 0) return [];
  // One id (the usual live-feed read) takes the by-id statement: Postgres caches its plan, while `= ANY($1)` is
  // re-planned on every call (its generic plan, sized for a guessed array, never looks cheaper than a custom one).
  if (ids.length === 1) {
    const view = await findAllocationView(db, ids[0]!);
    return view ? [view] : [];
  }
  const { rows } = await db.query<ViewRow>(prepared(`${VIEW_SELECT} WHERE a.id = ANY($1::uuid[])`, [ids]));
  return rows.map(toView);
}

/** Locks the allocation row for the rest of the caller's transaction, so lifecycle changes of one allocation queue up. */
export async function lockAllocation(client: pg.PoolClient, id: string): Promise<AllocationRecord | undefined> {
  const { rows } = await client.query<RecordRow>(prepared(
    `SELECT ${RECORD_COLUMNS} FROM compute.allocations a JOIN compute.regions r ON r.id = a.region_id WHERE a.id = $1 FOR UPDATE OF a`,
    [id],
  ));
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export interface AllocationFilter {
  /** Only allocations of projects this user is a member of (access.project_role_of). */
  readonly memberUserId?: string;
  readonly projectId?: string;
  readonly states?: readonly AllocationStateName[];
  readonly regionCode?: string;
  readonly nodeId?: string;
  readonly userId?: string;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listAllocationViews(db: Db, filter: AllocationFilter, page: PageRequest): Promise<AllocationView[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.memberUserId !== undefined) where.push(`access.project_role_of(a.project_id, ${param(filter.memberUserId)}) IS NOT NULL`);
  if (filter.projectId !== undefined) where.push(`a.project_id = ${param(filter.projectId)}`);
  if (filter.states !== undefined && filter.states.length > 0) where.push(`a.state = ANY(${param(filter.states)}::text[])`);
  if (filter.regionCode !== undefined) where.push(`r.code = ${param(filter.regionCode)}`);
  if (filter.nodeId !== undefined) where.push(`a.node_id = ${param(filter.nodeId)}`);
  if (filter.userId !== undefined) where.push(`a.user_id = ${param(filter.userId)}`);
  if (page.after) {
    where.push(`(a.created_at, a.id) < (timestamptz 'epoch' + ${param(page.after.ts)}::bigint * interval '1 microsecond', ${param(page.after.id)}::uuid)`);
  }
  const sql = `${VIEW_SELECT} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.created_at DESC, a.id DESC LIMIT ${param(page.first + 1)}`;
  const { rows } = await db.query<ViewRow>(sql, values);
  return rows.map(toView);
}

import type { PageRequest } from '../pagination.js';
import { cursorTimestamp, fromCursorTimestamp, type Db } from './db.js';
import type { ProjectRole } from './projects.js';

export interface MemberView {
  readonly userId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: ProjectRole;
  readonly addedAt: Date;
  /** 0 for the owner, 1 for everyone else: the owner is listed first. */
  readonly rank: number;
  readonly cursorTs: string;
}

interface Row {
  user_id: string;
  email: string;
  display_name: string;
  role: ProjectRole;
  created_at: Date;
  rank: number;
  cursor_ts: string;
}

const COLUMNS = `m.user_id, u.email, u.display_name, m.role, m.created_at,
  CASE WHEN m.role = 'owner' THEN 0 ELSE 1 END AS rank, ${cursorTimestamp('m.created_at')} AS cursor_ts`;

const toView = (row: Row): MemberView => ({
  userId: row.user_id,
  email: row.email,
  displayName: row.display_name,
  role: row.role,
  addedAt: row.created_at,
  rank: row.rank,
  cursorTs: row.cursor_ts,
});

export async function findMember(db: Db, projectId: string, userId: string): Promise<MemberView | null> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM access.project_members m JOIN access.users u ON u.id = m.user_id
      WHERE m.project_id = $1 AND m.user_id = $2`,
    [projectId, userId],
  );
  return rows[0] ? toView(rows[0]) : null;
}

export async function findOwner(db: Db, projectId: string): Promise<MemberView | null> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM access.project_members m JOIN access.users u ON u.id = m.user_id
      WHERE m.project_id = $1 AND m.role = 'owner'`,
    [projectId],
  );
  return rows[0] ? toView(rows[0]) : null;
}

/** Owner first, then by join time; one row more than the page. */
export async function listMembers(db: Db, projectId: string, filter: { role?: ProjectRole | undefined }, page: PageRequest): Promise<MemberView[]> {
  const params: unknown[] = [projectId];
  const where = ['m.project_id = $1'];
  if (filter.role) {
    params.push(filter.role);
    where.push(`m.role = $${params.length}`);
  }
  if (page.after) {
    params.push(page.after.rank ?? 1, page.after.ts, page.after.id);
    const n = params.length;
    where.push(
      `(CASE WHEN m.role = 'owner' THEN 0 ELSE 1 END, m.created_at, m.user_id) > ($${n - 2}::int, ${fromCursorTimestamp(`$${n - 1}`)}, $${n}::uuid)`,
    );
  }
  params.push(page.first + 1);
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM access.project_members m JOIN access.users u ON u.id = m.user_id
      WHERE ${where.join(' AND ')}
      ORDER BY rank, m.created_at, m.user_id LIMIT $${params.length}`,
    params,
  );
  return rows.map(toView);
}

export async function insertMember(db: Db, projectId: string, userId: string, role: ProjectRole): Promise<void> {
  await db.query('INSERT INTO access.project_members (project_id, user_id, role) VALUES ($1, $2, $3)', [projectId, userId, role]);
}

export async function updateMemberRole(db: Db, projectId: string, userId: string, role: ProjectRole): Promise<void> {
  await db.query('UPDATE access.project_members SET role = $3, updated_at = now() WHERE project_id = $1 AND user_id = $2', [
    projectId,
    userId,
    role,
  ]);
}

export async function deleteMember(db: Db, projectId: string, userId: string): Promise<boolean> {
  const result = await db.query('DELETE FROM access.project_members WHERE project_id = $1 AND user_id = $2', [projectId, userId]);
  return (result.rowCount ?? 0) === 1;
}

export async function deleteAllMembers(db: Db, projectId: string): Promise<number> {
  const result = await db.query('DELETE FROM access.project_members WHERE project_id = $1', [projectId]);
  return result.rowCount ?? 0;
}

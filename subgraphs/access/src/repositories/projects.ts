import type { PageRequest } from '../pagination.js';
import { cursorTimestamp, fromCursorTimestamp, type Db } from './db.js';

export type ProjectRole = 'owner' | 'admin' | 'member' | 'viewer';

/** A live project as one of its members sees it. */
export interface ProjectView {
  readonly id: string;
  readonly name: string;
  readonly slug: string | null;
  readonly ownerId: string;
  readonly personal: boolean;
  readonly createdAt: Date;
  /** The role of the member the project was read for. */
  readonly role: ProjectRole;
  readonly memberCount: number;
  readonly cursorTs: string;
}

interface Row {
  id: string;
  name: string;
  slug: string | null;
  owner_id: string;
  personal: boolean;
  created_at: Date;
  role: ProjectRole;
  member_count: number;
  cursor_ts: string;
}

const COLUMNS = `p.id, p.name, p.slug, p.owner_id, p.personal, p.created_at, m.role,
  (SELECT count(*)::int FROM access.project_members c WHERE c.project_id = p.id) AS member_count,
  ${cursorTimestamp('p.created_at')} AS cursor_ts`;

const toView = (row: Row): ProjectView => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  ownerId: row.owner_id,
  personal: row.personal,
  createdAt: row.created_at,
  role: row.role,
  memberCount: row.member_count,
  cursorTs: row.cursor_ts,
});

/** The project when `userId` is a member of it and it is not deleted; otherwise null, like a missing one. */
export async function findProjectForMember(db: Db, userId: string, projectId: string, options: { lock?: boolean } = {}): Promise<ProjectView | null> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM access.projects p
       JOIN access.project_members m ON m.project_id = p.id AND m.user_id = $1
      WHERE p.id = $2 AND p.deleted_at IS NULL
      ${options.lock ? 'FOR UPDATE OF p' : ''}`,
    [userId, projectId],
  );
  return rows[0] ? toView(rows[0]) : null;
}

/** Any live project, for a platform admin; `role` is the admin's own membership role, or null when not a member. */
export async function findProjectForAdmin(db: Db, adminUserId: string, projectId: string): Promise<ProjectReferenceView | null> {
  const { rows } = await db.query<Omit<Row, 'role'> & { role: ProjectRole | null }>(
    `SELECT ${COLUMNS} FROM access.projects p
       LEFT JOIN access.project_members m ON m.project_id = p.id AND m.user_id = $1
      WHERE p.id = $2 AND p.deleted_at IS NULL`,
    [adminUserId, projectId],
  );
  return rows[0] ? { ...toView({ ...rows[0], role: 'viewer' }), role: rows[0].role } : null;
}

/** A project as an entity reference resolves it: for a platform admin who is not a member, `role` is null. */
export type ProjectReferenceView = Omit<ProjectView, 'role'> & { readonly role: ProjectRole | null };

export interface ProjectListFilter {
  readonly personal?: boolean | undefined;
  readonly role?: ProjectRole | undefined;
  /** Case-insensitive substring of the name or slug. */
  readonly q?: string | undefined;
}

/** The member's live projects, newest first; one row more than the page. */
export async function listProjectsForMember(db: Db, userId: string, filter: ProjectListFilter, page: PageRequest): Promise<ProjectView[]> {
  const params: unknown[] = [userId];
  const where = ['p.deleted_at IS NULL'];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.personal !== undefined) add((p) => `p.personal = ${p}`, filter.personal);
  if (filter.role) add((p) => `m.role = ${p}`, filter.role);
  if (filter.q) {
    const pattern = `%${filter.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    add((p) => `(lower(p.name) LIKE ${p} OR coalesce(p.slug, '') LIKE ${p})`, pattern);
  }
  if (page.after) {
    params.push(page.after.ts, page.after.id);
    where.push(`(p.created_at, p.id) < (${fromCursorTimestamp(`$${params.length - 1}`)}, $${params.length}::uuid)`);
  }
  params.push(page.first + 1);
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM access.projects p
       JOIN access.project_members m ON m.project_id = p.id AND m.user_id = $1
      WHERE ${where.join(' AND ')}
      ORDER BY p.created_at DESC, p.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toView);
}

export async function insertProject(
  db: Db,
  ownerId: string,
  project: { id: string; name: string; slug: string | null; personal: boolean },
): Promise<void> {
  await db.query('INSERT INTO access.projects (id, name, slug, owner_id, personal) VALUES ($1, $2, $3, $4, $5)', [
    project.id,
    project.name,
    project.slug,
    ownerId,
    project.personal,
  ]);
}

export interface ProjectChange {
  readonly name?: string | undefined;
  /** A new slug, null to clear it, undefined to keep it. */
  readonly slug?: string | null | undefined;
}

export async function updateProject(db: Db, projectId: string, change: ProjectChange): Promise<void> {
  await db.query(
    `UPDATE access.projects
        SET name = coalesce($2, name), slug = CASE WHEN $3 THEN $4 ELSE slug END, updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL`,
    [projectId, change.name ?? null, change.slug !== undefined, change.slug ?? null],
  );
}

export async function setProjectOwner(db: Db, projectId: string, ownerId: string): Promise<void> {
  await db.query('UPDATE access.projects SET owner_id = $2, updated_at = now() WHERE id = $1', [projectId, ownerId]);
}

/** Soft delete: the row stays (ledgers and audit rows refer to it); its slug is never handed out again. */
export async function softDeleteProject(db: Db, ownerId: string, projectId: string): Promise<boolean> {
  const result = await db.query(
    'UPDATE access.projects SET deleted_at = now(), updated_at = now() WHERE owner_id = $1 AND id = $2 AND deleted_at IS NULL AND NOT personal',
    [ownerId, projectId],
  );
  return (result.rowCount ?? 0) === 1;
}

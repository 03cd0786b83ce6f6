import type { PlatformRole } from '@gpuaas/auth';
import type { PageRequest } from '../pagination.js';
import { cursorTimestamp, fromCursorTimestamp, type Db } from './db.js';

export type UserStatus = 'active' | 'suspended';

/** One `access.users` row. */
export interface UserRecord {
  readonly id: string;
  readonly email: string;
  readonly emailVerifiedAt: Date | null;
  readonly passwordHash: string | null;
  readonly displayName: string;
  readonly role: PlatformRole;
  readonly status: UserStatus;
  readonly suspendedAt: Date | null;
  readonly suspendedReason: string | null;
  readonly tokenVersion: number;
  readonly createdAt: Date;
  readonly lastLoginAt: Date | null;
  readonly passwordSetAt: Date | null;
}

export interface OidcLoginMethod {
  readonly provider: string;
  readonly linkedAt: Date;
}

/** A user with what every API shape of a user shows beside the row: personal project, counts, OIDC links. */
export interface UserView extends UserRecord {
  readonly personalProjectId: string;
  readonly projectCount: number;
  readonly sshKeyCount: number;
  readonly oidcMethods: readonly OidcLoginMethod[];
  /** Sort key for cursors (created_at in epoch microseconds). */
  readonly cursorTs: string;
}

const RECORD_COLUMNS = `u.id, u.email, u.email_verified_at, u.password_hash, u.display_name, u.role, u.status, u.suspended_at,
  u.suspended_reason, u.token_version, u.created_at, u.last_login_at, u.password_set_at`;

const VIEW_COLUMNS = `${RECORD_COLUMNS},
  (SELECT p.id FROM access.projects p WHERE p.owner_id = u.id AND p.personal) AS personal_project_id,
  (SELECT count(*)::int FROM access.project_members m JOIN access.projects p ON p.id = m.project_id
    WHERE m.user_id = u.id AND p.deleted_at IS NULL) AS project_count,
  (SELECT count(*)::int FROM access.ssh_keys k WHERE k.user_id = u.id) AS ssh_key_count,
  (SELECT coalesce(json_agg(json_build_object('provider', i.provider, 'linked_at', i.created_at) ORDER BY i.created_at, i.id), '[]'::json)
    FROM access.oidc_identities i WHERE i.user_id = u.id) AS oidc_methods,
  ${cursorTimestamp('u.created_at')} AS cursor_ts`;

interface RecordRow {
  id: string;
  email: string;
  email_verified_at: Date | null;
  password_hash: string | null;
  display_name: string;
  role: PlatformRole;
  status: UserStatus;
  suspended_at: Date | null;
  suspended_reason: string | null;
  token_version: number;
  created_at: Date;
  last_login_at: Date | null;
  password_set_at: Date | null;
}

interface ViewRow extends RecordRow {
  personal_project_id: string;
  project_count: number;
  ssh_key_count: number;
  oidc_methods: { provider: string; linked_at: string }[];
  cursor_ts: string;
}

function toRecord(row: RecordRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    emailVerifiedAt: row.email_verified_at,
    passwordHash: row.password_hash,
    displayName: row.display_name,
    role: row.role,
    status: row.status,
    suspendedAt: row.suspended_at,
    suspendedReason: row.suspended_reason,
    tokenVersion: row.token_version,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
    passwordSetAt: row.password_set_at,
  };
}

function toView(row: ViewRow): UserView {
  return {
    ...toRecord(row),
    personalProjectId: row.personal_project_id,
    projectCount: row.project_count,
    sshKeyCount: row.ssh_key_count,
    oidcMethods: row.oidc_methods.map((method) => ({ provider: method.provider, linkedAt: new Date(method.linked_at) })),
    cursorTs: row.cursor_ts,
  };
}

export async function findUserView(db: Db, userId: string): Promise<UserView | null> {
  const { rows } = await db.query<ViewRow>(`SELECT ${VIEW_COLUMNS} FROM access.users u WHERE u.id = $1`, [userId]);
  return rows[0] ? toView(rows[0]) : null;
}

/** Locks the row for the rest of the transaction (status, role and token version change under it). */
export async function lockUser(db: Db, userId: string): Promise<UserRecord | null> {
  const { rows } = await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM access.users u WHERE u.id = $1 FOR UPDATE`, [userId]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Emails compare case-insensitively (the unique index is on lower(email)). */
export async function findUserByEmail(db: Db, email: string): Promise<UserRecord | null> {
  const { rows } = await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM access.users u WHERE lower(u.email) = lower($1)`, [email]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export interface NewUser {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly passwordHash: string | null;
  readonly emailVerified: boolean;
}

export async function insertUser(db: Db, user: NewUser): Promise<void> {
  await db.query(
    `INSERT INTO access.users (id, email, display_name, password_hash, password_set_at, email_verified_at)
     VALUES ($1, $2, $3, $4, CASE WHEN $4::text IS NULL THEN NULL ELSE now() END, CASE WHEN $5 THEN now() END)`,
    [user.id, user.email, user.displayName, user.passwordHash, user.emailVerified],
  );
}

export async function updateDisplayName(db: Db, userId: string, displayName: string): Promise<void> {
  await db.query('UPDATE access.users SET display_name = $2, updated_at = now() WHERE id = $1', [userId, displayName]);
}

/**
 * Stores a new password hash. With `bumpTokenVersion` every access token issued before stops verifying against the
 * row (and, once the caller marks Redis, at the gateway). Answers the token version after the change.
 */
export async function setPasswordHash(db: Db, userId: string, passwordHash: string, options: { bumpTokenVersion: boolean }): Promise<number> {
  const { rows } = await db.query<{ token_version: number }>(
    `UPDATE access.users
        SET password_hash = $2, password_set_at = coalesce(password_set_at, now()), updated_at = now(),
            token_version = token_version + CASE WHEN $3 THEN 1 ELSE 0 END
      WHERE id = $1 RETURNING token_version`,
    [userId, passwordHash, options.bumpTokenVersion],
  );
  return rows[0]?.token_version ?? 0;
}

export async function touchLastLogin(db: Db, userId: string): Promise<void> {
  await db.query('UPDATE access.users SET last_login_at = now() WHERE id = $1', [userId]);
}

export async function markEmailVerified(db: Db, userId: string): Promise<void> {
  await db.query('UPDATE access.users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1', [userId]);
}

export interface UserAdminChange {
  readonly status: UserStatus;
  readonly role: PlatformRole;
  readonly suspendedReason: string | null;
  readonly bumpTokenVersion: boolean;
}

/** Status, role and suspension fields in one statement; answers the token version after it. */
export async function applyAdminChange(db: Db, userId: string, change: UserAdminChange): Promise<number> {
  const { rows } = await db.query<{ token_version: number }>(
    `UPDATE access.users
        SET status = $2, role = $3,
            suspended_at = CASE WHEN $2 = 'suspended' THEN coalesce(suspended_at, now()) END,
            suspended_reason = CASE WHEN $2 = 'suspended' THEN $4 END,
            token_version = token_version + CASE WHEN $5 THEN 1 ELSE 0 END,
            updated_at = now()
      WHERE id = $1 RETURNING token_version`,
    [userId, change.status, change.role, change.suspendedReason, change.bumpTokenVersion],
  );
  return rows[0]?.token_version ?? 0;
}

export async function bumpTokenVersion(db: Db, userId: string): Promise<number> {
  const { rows } = await db.query<{ token_version: number }>(
    'UPDATE access.users SET token_version = token_version + 1, updated_at = now() WHERE id = $1 RETURNING token_version',
    [userId],
  );
  return rows[0]?.token_version ?? 0;
}

export interface UserListFilter {
  readonly status?: UserStatus | undefined;
  readonly role?: PlatformRole | undefined;
  readonly q?: string | undefined;
  readonly createdAfter?: Date | undefined;
  readonly createdBefore?: Date | undefined;
}

/** Operators' listing: newest first, filters combined with AND. Fetches one row more than the page. */
export async function listUsers(db: Db, filter: UserListFilter, page: PageRequest): Promise<UserView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.status) add((p) => `u.status = ${p}`, filter.status);
  if (filter.role) add((p) => `u.role = ${p}`, filter.role);
  if (filter.q) {
    // LIKE metacharacters in the search text match literally.
    const pattern = `%${filter.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    add((p) => `(lower(u.email) LIKE ${p} OR lower(u.display_name) LIKE ${p})`, pattern);
  }
  if (filter.createdAfter) add((p) => `u.created_at >= ${p}`, filter.createdAfter);
  if (filter.createdBefore) add((p) => `u.created_at < ${p}`, filter.createdBefore);
  if (page.after) {
    params.push(page.after.ts, page.after.id);
    where.push(`(u.created_at, u.id) < (${fromCursorTimestamp(`$${params.length - 1}`)}, $${params.length}::uuid)`);
  }
  params.push(page.first + 1);
  const { rows } = await db.query<ViewRow>(
    `SELECT ${VIEW_COLUMNS} FROM access.users u
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY u.created_at DESC, u.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toView);
}

/** True when both users belong to one live project (they may see each other's profile). */
export async function shareAProject(db: Db, userId: string, otherUserId: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM access.project_members a
       JOIN access.project_members b ON b.project_id = a.project_id AND b.user_id = $2
       JOIN access.projects p ON p.id = a.project_id AND p.deleted_at IS NULL
      WHERE a.user_id = $1 LIMIT 1`,
    [userId, otherUserId],
  );
  return rows.length > 0;
}

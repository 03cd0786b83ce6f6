import type pg from 'pg';
import { prepared } from '@gpuaas/db';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export interface NotificationRow {
  readonly id: string;
  readonly userId: string;
  readonly kind: string;
  readonly title: string;
  readonly body: string;
  readonly eventId: string;
  readonly readAt: Date | null;
  readonly createdAt: Date;
  /** created_at with its microseconds (a JS Date keeps milliseconds), so a cursor never skips or repeats a row. */
  readonly createdAtKey: string;
}

/** Where a page starts: the previous page's last row in the newest-first order. */
export interface NotificationCursorKey {
  readonly createdAt: string;
  readonly id: string;
}

interface DbRow {
  id: string;
  user_id: string;
  kind: string;
  title: string;
  body: string;
  event_id: string;
  read_at: Date | null;
  created_at: Date;
  created_at_key: string;
}

const COLUMNS = `id, user_id, kind, title, body, event_id, read_at, created_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_key`;

const toRow = (row: DbRow): NotificationRow => ({
  id: row.id,
  userId: row.user_id,
  kind: row.kind,
  title: row.title,
  body: row.body,
  eventId: row.event_id,
  readAt: row.read_at,
  createdAt: row.created_at,
  createdAtKey: row.created_at_key,
});

export interface NewNotifications {
  /** One id per recipient, in the same order as `userIds`. */
  readonly ids: readonly string[];
  readonly userIds: readonly string[];
  readonly kind: string;
  readonly title: string;
  readonly body: string;
  readonly eventId: string;
}

const INSERT_NOTIFICATIONS = `INSERT INTO platform.notifications (id, user_id, kind, title, body, event_id)
  SELECT r.id, r.user_id, $3::text, $4::text, $5::text, $6::uuid FROM unnest($1::uuid[], $2::uuid[]) AS r(id, user_id)
  ON CONFLICT ON CONSTRAINT notifications_event_user_key DO NOTHING`;

/**
 * Inserts one notification per recipient in a single statement (atomic on its own, so no transaction around it),
 * skipping recipients this event already notified; answers how many rows were written.
 */
export async function insertNotifications(db: Queryable, input: NewNotifications): Promise<number> {
  const result = await db.query(prepared(INSERT_NOTIFICATIONS, [input.ids, input.userIds, input.kind, input.title, input.body, input.eventId]));
  return result.rowCount ?? 0;
}

/** The user's notifications, newest first; fetches `limit` rows (the caller asks for one extra to see a next page). */
export async function listNotifications(
  db: Queryable,
  userId: string,
  options: { readonly unreadOnly: boolean; readonly after: NotificationCursorKey | null; readonly limit: number },
): Promise<NotificationRow[]> {
  const { rows } = await db.query<DbRow>(
    `SELECT ${COLUMNS} FROM platform.notifications
     WHERE user_id = $1
       AND ($2::boolean IS FALSE OR read_at IS NULL)
       AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
     ORDER BY created_at DESC, id DESC
     LIMIT $5`,
    [userId, options.unreadOnly, options.after?.createdAt ?? null, options.after?.id ?? null, options.limit],
  );
  return rows.map(toRow);
}

/** One of the user's notifications; another user's answers like a missing one. */
export async function findNotification(db: Queryable, userId: string, id: string): Promise<NotificationRow | null> {
  const { rows } = await db.query<DbRow>(`SELECT ${COLUMNS} FROM platform.notifications WHERE id = $1 AND user_id = $2`, [id, userId]);
  return rows[0] ? toRow(rows[0]) : null;
}

/** Marks it read once; reading it again keeps the first time. */
export async function markRead(db: Queryable, userId: string, id: string): Promise<NotificationRow | null> {
  const { rows } = await db.query<DbRow>(
    `UPDATE platform.notifications SET read_at = COALESCE(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
    [id, userId],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

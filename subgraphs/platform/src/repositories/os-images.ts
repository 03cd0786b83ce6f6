import type pg from 'pg';

export type OsImageStatus = 'active' | 'deprecated';

export interface OsImageRow {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly family: string;
  readonly imageRef: string;
  readonly cudaVersion: string | null;
  readonly driverVersion: string | null;
  readonly status: OsImageStatus;
  readonly isDefault: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Where a listing page starts: the sort key of the previous page's last row (default first, family, name, version desc). */
export interface OsImageCursorKey {
  readonly notDefault: boolean;
  readonly family: string;
  readonly name: string;
  readonly version: string;
  readonly id: string;
}

export interface OsImageFilter {
  readonly family?: string | null | undefined;
  readonly status?: OsImageStatus | null | undefined;
}

export interface OsImageFields {
  readonly name: string;
  readonly version: string;
  readonly family: string;
  readonly imageRef: string;
  readonly cudaVersion: string | null;
  readonly driverVersion: string | null;
  readonly status: OsImageStatus;
  readonly isDefault: boolean;
}

const COLUMNS = `id, name, version, family, image_ref AS "imageRef", cuda_version AS "cudaVersion", driver_version AS "driverVersion",
  status, is_default AS "isDefault", created_at AS "createdAt", updated_at AS "updatedAt"`;

// Deleted images stay as rows (past allocations name them) but no read here returns them.
const VISIBLE = `status <> 'deleted'`;

/** One page (`limit` rows, the caller asks one more to learn whether another page exists) in catalog order. */
export async function listOsImages(db: pg.ClientBase | pg.Pool, filter: OsImageFilter, after: OsImageCursorKey | null, limit: number): Promise<OsImageRow[]> {
  const params: unknown[] = [];
  const where = [VISIBLE];
  if (filter.family) where.push(`family = $${params.push(filter.family)}`);
  if (filter.status) where.push(`status = $${params.push(filter.status)}`);
  if (after) {
    const d = `$${params.push(after.notDefault)}`;
    const f = `$${params.push(after.family)}`;
    const n = `$${params.push(after.name)}`;
    const v = `$${params.push(after.version)}`;
    const i = `$${params.push(after.id)}`;
    // Mixed sort directions (version is newest first), so the row comparison is split at version.
    where.push(`((NOT is_default, family, name) > (${d}::boolean, ${f}::text, ${n}::text)
      OR ((NOT is_default, family, name) = (${d}::boolean, ${f}::text, ${n}::text)
        AND (version < ${v}::text OR (version = ${v}::text AND id > ${i}::uuid))))`);
  }
  const { rows } = await db.query<OsImageRow>(
    `SELECT ${COLUMNS} FROM platform.os_images WHERE ${where.join(' AND ')}
     ORDER BY NOT is_default, family, name, version DESC, id LIMIT $${params.push(limit)}`,
    params,
  );
  return rows;
}

export async function findOsImage(db: pg.ClientBase | pg.Pool, id: string): Promise<OsImageRow | null> {
  const { rows } = await db.query<OsImageRow>(`SELECT ${COLUMNS} FROM platform.os_images WHERE id = $1 AND ${VISIBLE}`, [id]);
  return rows[0] ?? null;
}

/** Several images at once (federation batches references); deleted and unknown ids are left out. */
export async function findOsImages(db: pg.ClientBase | pg.Pool, ids: readonly string[]): Promise<OsImageRow[]> {
  const { rows } = await db.query<OsImageRow>(`SELECT ${COLUMNS} FROM platform.os_images WHERE id = ANY ($1::uuid[]) AND ${VISIBLE}`, [ids]);
  return rows;
}

export async function lockOsImage(client: pg.ClientBase, id: string): Promise<OsImageRow | null> {
  const { rows } = await client.query<OsImageRow>(`SELECT ${COLUMNS} FROM platform.os_images WHERE id = $1 AND ${VISIBLE} FOR UPDATE`, [id]);
  return rows[0] ?? null;
}

/**
 * Serialises changes of the default flag: the partial unique index allows one default, and two transactions that
 * both move it would otherwise fail on that index instead of one waiting for the other.
 */
export async function lockDefaultFlag(client: pg.ClientBase): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('platform.os_images.default'))`);
}

/** Clears the default flag wherever it is (but on `keepId`); call with the default flag lock held. */
export async function clearDefault(client: pg.ClientBase, keepId: string | null): Promise<string | null> {
  const { rows } = await client.query<{ id: string }>(
    `UPDATE platform.os_images SET is_default = false, updated_at = now() WHERE is_default AND id IS DISTINCT FROM $1 RETURNING id`,
    [keepId],
  );
  return rows[0]?.id ?? null;
}

export async function insertOsImage(client: pg.ClientBase, id: string, fields: OsImageFields): Promise<OsImageRow> {
  const { rows } = await client.query<OsImageRow>(
    `INSERT INTO platform.os_images (id, name, version, family, image_ref, cuda_version, driver_version, status, is_default)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
    [id, fields.name, fields.version, fields.family, fields.imageRef, fields.cudaVersion, fields.driverVersion, fields.status, fields.isDefault],
  );
  return rows[0]!;
}

export async function updateOsImage(client: pg.ClientBase, id: string, fields: OsImageFields): Promise<OsImageRow> {
  const { rows } = await client.query<OsImageRow>(
    `UPDATE platform.os_images SET name = $2, version = $3, family = $4, image_ref = $5, cuda_version = $6, driver_version = $7,
       status = $8, is_default = $9, updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, fields.name, fields.version, fields.family, fields.imageRef, fields.cudaVersion, fields.driverVersion, fields.status, fields.isDefault],
  );
  return rows[0]!;
}

export async function markOsImageDeleted(client: pg.ClientBase, id: string): Promise<void> {
  await client.query(`UPDATE platform.os_images SET status = 'deleted', is_default = false, updated_at = now() WHERE id = $1`, [id]);
}

/** Live allocations per image, through the read interface compute publishes (never compute's tables). */
export async function liveAllocationCounts(db: pg.ClientBase | pg.Pool, ids: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>(ids.map((id) => [id, 0]));
  if (ids.length === 0) return counts;
  const { rows } = await db.query<{ os_image_id: string; live_allocation_count: number }>(
    'SELECT os_image_id, live_allocation_count FROM compute.live_allocation_counts_of_os_images($1::uuid[])',
    [ids],
  );
  for (const row of rows) counts.set(row.os_image_id, row.live_allocation_count);
  return counts;
}

import type pg from 'pg';

/** A pool for single statements or the client of an open transaction (`withTransaction`). */
export type Db = pg.Pool | pg.PoolClient;

/** Postgres SQLSTATE 23505; `constraint` narrows it to one unique index or constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint: violated } = error as { code?: unknown; constraint?: unknown };
  return code === '23505' && (constraint === undefined || violated === constraint);
}

/** `created_at` as integer microseconds since the epoch: a JS Date would drop the microseconds a cursor needs. */
export const cursorTimestamp = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint::text`;

/** The inverse of `cursorTimestamp`, exact to the microsecond (no floating point on the way). */
export const fromCursorTimestamp = (placeholder: string) => `(timestamptz 'epoch' + ${placeholder}::bigint * interval '1 microsecond')`;

import { Validation } from '@gpuaas/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** Where a page starts: the sort key of the last row of the previous page. */
export interface CursorKey {
  /** `created_at` in epoch microseconds, as text (see repositories/db.ts). */
  readonly ts: string;
  readonly id: string;
  /** Leading sort rank where a listing puts some rows first (the owner among members). */
  readonly rank?: number;
}

export interface PageRequest {
  readonly first: number;
  readonly after: CursorKey | null;
}

export interface Page<T> {
  readonly items: readonly { readonly node: T; readonly cursor: string }[];
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque to clients: base64url JSON, so the sort key can change shape without a contract change. */
export function encodeCursor(key: CursorKey): string {
  const payload = key.rank === undefined ? { t: key.ts, i: key.id } : { r: key.rank, t: key.ts, i: key.id };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey | null {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { t, i, r } = value;
    if (typeof t !== 'string' || !/^-?\d{1,20}$/.test(t) || typeof i !== 'string' || !UUID.test(i)) return null;
    if (r !== undefined && (typeof r !== 'number' || !Number.isSafeInteger(r))) return null;
    return r === undefined ? { ts: t, id: i } : { ts: t, id: i, rank: r };
  } catch {
    return null;
  }
}

/** Validates `first`/`after`; problems are named like the REST query parameters they mirror. */
export function pageRequest(first: number | null | undefined, after: string | null | undefined): PageRequest {
  const size = first ?? DEFAULT_PAGE_SIZE;
  const issues = [];
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    issues.push({ field: 'query.limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
  }
  const key = after === null || after === undefined ? null : decodeCursor(after);
  if (after !== null && after !== undefined && key === null) issues.push({ field: 'query.cursor', message: 'is not a cursor this listing issued' });
  if (issues.length > 0) throw Validation(issues);
  return { first: size, after: key };
}

/** Repositories fetch `first + 1` rows; the extra one only says whether another page exists. */
export function toPage<T>(rows: readonly T[], request: PageRequest, keyOf: (row: T) => CursorKey): Page<T> {
  const visible = rows.slice(0, request.first);
  const items = visible.map((node) => ({ node, cursor: encodeCursor(keyOf(node)) }));
  return { items, hasNextPage: rows.length > request.first, endCursor: items.at(-1)?.cursor ?? null };
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

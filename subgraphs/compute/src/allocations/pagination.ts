import { Validation } from '@gpuaas/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** Where a page starts: the (created_at in epoch microseconds, id) of the last row of the previous page. */
export interface CursorKey {
  readonly ts: string;
  readonly id: string;
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

/** Opaque to clients (base64url JSON), so the sort key may change without a contract change. */
export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify({ t: key.ts, i: key.id }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey | null {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const { t, i } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof t !== 'string' || !/^-?\d{1,20}$/.test(t) || typeof i !== 'string' || !UUID.test(i)) return null;
    return { ts: t, id: i };
  } catch {
    return null;
  }
}

/** Validates `first`/`after`; problems are named like the REST query parameters they mirror. */
export function pageRequest(first: number | null | undefined, after: string | null | undefined): PageRequest {
  const size = first ?? DEFAULT_PAGE_SIZE;
  const issues = [];
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) issues.push({ field: 'query.limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
  const key = after === null || after === undefined ? null : decodeCursor(after);
  if (after !== null && after !== undefined && key === null) issues.push({ field: 'query.cursor', message: 'is not a cursor this listing issued' });
  if (issues.length > 0) throw Validation(issues);
  return { first: size, after: key };
}

/** Repositories fetch `first + 1` rows; the extra one only says whether another page exists. */
export function toPage<T extends { readonly id: string; readonly cursorTs: string }>(rows: readonly T[], first: number): Page<T> {
  const items = rows.slice(0, first).map((node) => ({ node, cursor: encodeCursor({ ts: node.cursorTs, id: node.id }) }));
  return { items, hasNextPage: rows.length > first, endCursor: items.at(-1)?.cursor ?? null };
}

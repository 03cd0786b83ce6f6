import { Validation } from '@gpuaas/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** Where a page starts: (created_at in epoch microseconds, id) of the previous page's last row. */
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

/** `created_at` as integer microseconds: a JS Date would drop the microseconds a cursor needs. */
export const cursorTimestamp = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint::text`;
export const fromCursorTimestamp = (placeholder: string) => `(timestamptz 'epoch' + ${placeholder}::bigint * interval '1 microsecond')`;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify({ t: key.ts, i: key.id }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): CursorKey | null {
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
export function toPage<T extends { readonly cursorTs: string; readonly id: string }>(rows: readonly T[], request: PageRequest): Page<T> {
  const visible = rows.slice(0, request.first);
  const items = visible.map((node) => ({ node, cursor: encodeCursor({ ts: node.cursorTs, id: node.id }) }));
  return { items, hasNextPage: rows.length > request.first, endCursor: items.at(-1)?.cursor ?? null };
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** GraphQL connection of a page, mapping each node. */
export function toConnection<T, N>(page: Page<T>, map: (node: T) => N) {
  return {
    edges: page.items.map((item) => ({ node: map(item.node), cursor: item.cursor })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}

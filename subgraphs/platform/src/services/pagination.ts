import { Validation, type FieldIssue } from '@gpuaas/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface Page<T> {
  readonly items: readonly { readonly node: T; readonly cursor: string }[];
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
}

/** Opaque to clients: base64url JSON of the listing's sort key, so the key can change without a contract change. */
export function encodeCursor(key: object): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodeCursorJson(cursor: string): unknown {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

/** Validates `first`/`after`; `parseKey` answers null for a cursor this listing did not issue. Issues name the REST parameters. */
export function pageRequest<K>(
  first: number | null | undefined,
  after: string | null | undefined,
  parseKey: (value: unknown) => K | null,
): { first: number; after: K | null } {
  const size = first ?? DEFAULT_PAGE_SIZE;
  const issues: FieldIssue[] = [];
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) issues.push({ field: 'query.limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
  const key = after === null || after === undefined ? null : parseKey(decodeCursorJson(after));
  if (after !== null && after !== undefined && key === null) issues.push({ field: 'query.cursor', message: 'is not a cursor this listing issued' });
  if (issues.length > 0) throw Validation(issues);
  return { first: size, after: key };
}

/** Repositories fetch `first + 1` rows; the extra one only says whether another page exists. */
export function toPage<T>(rows: readonly T[], first: number, keyOf: (row: T) => object): Page<T> {
  const visible = rows.slice(0, first);
  const items = visible.map((node) => ({ node, cursor: encodeCursor(keyOf(node)) }));
  return { items, hasNextPage: rows.length > first, endCursor: items.at(-1)?.cursor ?? null };
}

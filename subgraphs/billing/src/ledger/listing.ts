import type pg from 'pg';
import { Validation } from '@gpuaas/errors';
import type { LedgerEntryKind } from './accounts.js';
import { ENTRY_COLUMNS, toLedgerEntry, type EntryRow, type LedgerEntry } from './entries.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface LedgerFilter {
  readonly kind?: LedgerEntryKind | null;
  readonly from?: Date | null;
  readonly to?: Date | null;
}

export interface LedgerPage {
  readonly items: readonly { readonly node: LedgerEntry; readonly cursor: string }[];
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
}

/** Opaque to clients: the entry's position in its wallet's chain, base64url. */
const encodeCursor = (seq: bigint) => Buffer.from(JSON.stringify({ s: seq.toString() }), 'utf8').toString('base64url');

function decodeCursor(cursor: string): bigint | null {
  if (cursor.length > 128 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const { s } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s?: unknown };
    return typeof s === 'string' && /^\d{1,19}$/.test(s) ? BigInt(s) : null;
  } catch {
    return null;
  }
}

/** A wallet's entries, newest first, paged by their position in the wallet's chain (stable under new entries). */
export async function listLedgerEntries(
  db: pg.Pool | pg.ClientBase,
  walletId: string,
  first: number | null | undefined,
  after: string | null | undefined,
  filter: LedgerFilter,
): Promise<LedgerPage> {
  const size = first ?? DEFAULT_PAGE_SIZE;
  const issues = [];
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) issues.push({ field: 'query.limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
  const afterSeq = after ? decodeCursor(after) : null;
  if (after && afterSeq === null) issues.push({ field: 'query.cursor', message: 'is not a cursor this listing issued' });
  if (issues.length > 0) throw Validation(issues);
  const { rows } = await db.query<EntryRow>(
    `SELECT ${ENTRY_COLUMNS} FROM billing.ledger_entries e
     WHERE e.wallet_id = $1 AND e.account = 'wallet'
       AND ($2::bigint IS NULL OR e.wallet_seq < $2)
       AND ($3::text IS NULL OR e.kind = $3)
       AND ($4::timestamptz IS NULL OR e.created_at >= $4)
       AND ($5::timestamptz IS NULL OR e.created_at < $5)
     ORDER BY e.wallet_seq DESC
     LIMIT $6`,
    [walletId, afterSeq?.toString() ?? null, filter.kind ?? null, filter.from?.toISOString() ?? null, filter.to?.toISOString() ?? null, size + 1],
  );
  const entries = rows.slice(0, size).map(toLedgerEntry);
  const items = entries.map((node) => ({ node, cursor: encodeCursor(node.walletSeq) }));
  return { items, hasNextPage: rows.length > size, endCursor: items.at(-1)?.cursor ?? null };
}

/** Anything that runs SQL with positional parameters: a pg Client, PoolClient or Pool. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }>;
}

export type ProcessOnceResult<T> = { readonly duplicate: true } | { readonly duplicate: false; readonly result: T };

/**
 * Runs `fn` only the first time `consumer` sees `eventId`. Call it inside the transaction that does the work:
 * the marker row commits or rolls back with it, and a concurrent redelivery waits on the row lock, then skips.
 */
export async function processOnce<T>(db: Queryable, consumer: string, eventId: string, fn: () => Promise<T>): Promise<ProcessOnceResult<T>> {
  const inserted = await db.query(
    'INSERT INTO infra.processed_events (consumer, event_id, processed_at) VALUES ($1, $2, now()) ON CONFLICT (consumer, event_id) DO NOTHING',
    [consumer, eventId],
  );
  if (inserted.rowCount === 0) return { duplicate: true };
  return { duplicate: false, result: await fn() };
}

import type pg from 'pg';
import { prepared } from '@gpuaas/db';

/**
 * The consumer's idempotency marker (infra.processed_events, processOnce's row) for the event being applied.
 * The hot statements insert it themselves, so claiming the event costs no statement of its own.
 */
export interface EventMarker {
  readonly consumer: string;
  readonly eventId: string;
}

// jit = off for the rest of the transaction (its CTE chains' row estimates are rough, and compiling them costs
// more than running them), set in the transaction's first statement instead of a SET LOCAL of its own.
const CLAIM = `INSERT INTO infra.processed_events (consumer, event_id, processed_at)
  SELECT $1::text, $2::uuid, now() FROM (SELECT set_config('jit', 'off', true)) jit
  ON CONFLICT (consumer, event_id) DO NOTHING`;

/** processOnce's marker insert, in the caller's transaction: false when the consumer has seen the event already. */
export async function claimEvent(client: pg.ClientBase, marker: EventMarker): Promise<boolean> {
  const inserted = await client.query(prepared(CLAIM, [marker.consumer, marker.eventId]));
  return inserted.rowCount !== 0;
}

import type pg from 'pg';
import type { EventEnvelope } from '@gpuaas/events';

/** writeOutbox for many events in one round trip (a depleted wallet with many allocations), same transaction. */
export async function writeOutboxBatch(client: pg.ClientBase, envelopes: readonly EventEnvelope[]): Promise<void> {
  if (envelopes.length === 0) return;
  await client.query(
    `INSERT INTO infra.outbox (event_id, subject, envelope, correlation_id)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[])`,
    [
      envelopes.map((envelope) => envelope.event_id),
      envelopes.map((envelope) => envelope.event_type),
      envelopes.map((envelope) => JSON.stringify(envelope)),
      envelopes.map((envelope) => envelope.correlation_id),
    ],
  );
}

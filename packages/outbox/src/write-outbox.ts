import type { EventEnvelope, Queryable, Subject } from '@gpuaas/events';

/**
 * Records an event in `infra.outbox` inside the caller's transaction: pass the client that runs the domain change,
 * so the event exists exactly when the change commits. The relay publishes it afterwards.
 */
export async function writeOutbox(executor: Queryable, envelope: EventEnvelope<unknown, Subject>): Promise<void> {
  await executor.query('INSERT INTO infra.outbox (event_id, subject, envelope, correlation_id) VALUES ($1, $2, $3, $4)', [
    envelope.event_id,
    envelope.event_type,
    JSON.stringify(envelope),
    envelope.correlation_id,
  ]);
}

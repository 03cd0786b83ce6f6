import type pg from 'pg';
import { uuidv7, withTransaction } from '@gpuaas/db';
import { insertNotification } from './repository.js';
import { isNotificationSubject, MalformedNotificationEvent, messageFor, type Recipients } from './messages.js';

/** The part of an event envelope the relay needs. */
export interface NotifiableEvent {
  readonly event_id: string;
  readonly event_type: string;
  readonly payload: unknown;
}

export type RecordResult =
  | { readonly status: 'recorded'; readonly notified: number; readonly recipients: number }
  | { readonly status: 'ignored' }
  | { readonly status: 'malformed'; readonly reason: string };

async function resolveRecipients(client: pg.PoolClient, recipients: Recipients): Promise<string[]> {
  if ('userIds' in recipients) return [...new Set(recipients.userIds)];
  // access publishes this read interface; platform never reads access's tables.
  const { rows } = await client.query<{ user_id: string }>('SELECT user_id FROM access.project_billing_members_of($1)', [recipients.billingMembersOf]);
  return [...new Set(rows.map((row) => row.user_id))];
}

/**
 * Writes one notification per recipient of a consumed event, in one transaction. Idempotent by the
 * (event_id, user_id) key: a redelivered event writes nothing new (notified = 0), and nothing is signalled twice.
 * Subjects the relay does not notify about are ignored; a payload that lacks what its message needs is malformed.
 */
export async function recordEventNotifications(pool: pg.Pool, event: NotifiableEvent): Promise<RecordResult> {
  if (!isNotificationSubject(event.event_type)) return { status: 'ignored' };
  let message;
  try {
    message = messageFor(event.event_type, event.payload);
  } catch (error) {
    if (error instanceof MalformedNotificationEvent) return { status: 'malformed', reason: error.message };
    throw error;
  }
  const ready = message;
  return withTransaction(pool, async (client) => {
    const userIds = await resolveRecipients(client, ready.recipients);
    let notified = 0;
    for (const userId of userIds) {
      const written = await insertNotification(client, { id: uuidv7(), userId, kind: ready.kind, title: ready.title, body: ready.body, eventId: event.event_id });
      if (written) notified++;
    }
    return { status: 'recorded', notified, recipients: userIds.length };
  });
}

import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';
import { insertNotifications } from './repository.js';
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

async function resolveRecipients(pool: pg.Pool, recipients: Recipients): Promise<string[]> {
  if ('userIds' in recipients) return [...new Set(recipients.userIds)];
  // access publishes this read interface; platform never reads access's tables.
  const { rows } = await pool.query<{ user_id: string }>('SELECT user_id FROM access.project_billing_members_of($1)', [recipients.billingMembersOf]);
  return [...new Set(rows.map((row) => row.user_id))];
}

/**
 * Writes one notification per recipient of a consumed event, in one statement. Idempotent by the
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
  // The recipient read needs no transaction with the insert: under READ COMMITTED each statement sees the latest
  // commits anyway, and the single INSERT writes all recipients' rows (and their NOTIFYs) atomically.
  const userIds = await resolveRecipients(pool, message.recipients);
  if (userIds.length === 0) return { status: 'recorded', notified: 0, recipients: 0 };
  const notified = await insertNotifications(pool, {
    ids: userIds.map(() => uuidv7()),
    userIds,
    kind: message.kind,
    title: message.title,
    body: message.body,
    eventId: event.event_id,
  });
  return { status: 'recorded', notified, recipients: userIds.length };
}

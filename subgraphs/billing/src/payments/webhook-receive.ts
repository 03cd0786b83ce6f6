import Stripe from 'stripe';
import { uuidv7, withTransaction } from '@gpuaas/db';
import { AppError, Validation } from '@gpuaas/errors';
import { createEnvelope, subjects } from '@gpuaas/events';
import { writeOutbox } from '@gpuaas/outbox';
import type { BillingDeps } from '../deps.js';
import type { StripeSettings } from '../config.js';

/** Stripe's own default: a signature older than five minutes is a replay. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

/** What the webhook route needs: the database and the webhook secret (a BillingDeps fits). */
export type WebhookDeps = Pick<BillingDeps, 'pool' | 'logger'> & {
  readonly config: { readonly stripe: Pick<StripeSettings, 'webhookSecret' | 'webhookToleranceSeconds'> };
};

export interface WebhookDelivery {
  /** The exact request bytes: the signature covers them, so they are never re-serialised. */
  readonly rawBody: Buffer | undefined;
  readonly signatureHeader: string | undefined;
  readonly correlationId: string;
  /** Seconds since the epoch; tests move the clock. */
  readonly now?: number;
}

export interface WebhookReceipt {
  readonly stripeEventId: string;
  readonly type: string;
  /** A redelivery of an event already stored: acknowledged, nothing written. */
  readonly duplicate: boolean;
}

/**
 * Verifies a Stripe webhook and records it once. The signature is checked over the raw bytes with the webhook
 * secret, and its timestamp must lie within the tolerance either way (Stripe's SDK only refuses old ones; a
 * timestamp from the future is refused here too). A verified event is inserted by its Stripe id together with its
 * `payments.stripe_event_received` outbox row, in one transaction; a redelivery conflicts on the id and writes
 * nothing. Anything unverified answers webhook_signature_invalid and stores nothing.
 */
export async function receiveStripeWebhook(deps: WebhookDeps, delivery: WebhookDelivery): Promise<WebhookReceipt> {
  const event = verifiedEvent(deps, delivery);
  const livemode = event.livemode === true;
  return withTransaction(deps.pool, async (client) => {
    const rowId = uuidv7();
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO billing.stripe_events (id, stripe_event_id, type, livemode, payload) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (stripe_event_id) DO NOTHING RETURNING id`,
      [rowId, event.id, event.type, livemode, delivery.rawBody!.toString('utf8')],
    );
    if (inserted.rowCount === 0) return { stripeEventId: event.id, type: event.type, duplicate: true };
    await writeOutbox(
      client,
      createEnvelope(subjects.paymentsStripeEventReceived, { stripe_event_row_id: rowId, stripe_event_id: event.id, stripe_event_type: event.type }, { correlationId: delivery.correlationId }),
    );
    return { stripeEventId: event.id, type: event.type, duplicate: false };
  });
}

interface VerifiedEvent {
  readonly id: string;
  readonly type: string;
  readonly livemode?: unknown;
}

function verifiedEvent(deps: WebhookDeps, delivery: WebhookDelivery): VerifiedEvent {
  const { webhookSecret, webhookToleranceSeconds } = deps.config.stripe;
  const tolerance = webhookToleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const now = delivery.now ?? Math.floor(Date.now() / 1000);
  if (!delivery.rawBody || delivery.rawBody.length === 0 || !delivery.signatureHeader) throw signatureInvalid('The webhook signature is missing');
  const timestamp = signedTimestamp(delivery.signatureHeader);
  if (timestamp === undefined || timestamp > now + tolerance) throw signatureInvalid('The webhook signature timestamp is outside the tolerance');
  let event: unknown;
  try {
    event = Stripe.webhooks.constructEvent(delivery.rawBody, delivery.signatureHeader, webhookSecret, tolerance, undefined, now * 1000);
  } catch (error) {
    deps.logger.warn({ reason: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'stripe webhook refused');
    throw signatureInvalid('The webhook signature is invalid');
  }
  const record = event as Record<string, unknown>;
  const data = record['data'] as Record<string, unknown> | undefined;
  if (typeof record['id'] !== 'string' || !record['id'].startsWith('evt_') || typeof record['type'] !== 'string' || typeof data?.['object'] !== 'object' || data['object'] === null) {
    throw Validation([{ field: 'body', message: 'is not a Stripe event' }]);
  }
  return { id: record['id'], type: record['type'], livemode: record['livemode'] };
}

function signedTimestamp(header: string): number | undefined {
  const part = header.split(',').find((item) => item.trim().startsWith('t='));
  const value = part ? Number(part.trim().slice(2)) : NaN;
  return Number.isInteger(value) ? value : undefined;
}

function signatureInvalid(message: string): AppError {
  return new AppError('webhook_signature_invalid', message);
}

import { createHash } from 'node:crypto';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { v7 as uuidv7 } from 'uuid';
import { correlationIdFrom } from '@gpuaas/telemetry';
import { createEnvelope, type EnvelopeSubject, type EventEnvelope } from './envelope.js';
import { CORRELATION_ID_HEADER, publishEvent } from './publish.js';
import { dlqSubjectOf, DLQ_PREFIX } from './subjects.js';

/** Why a message was given up on: an error-catalog code, or one of the consumer's own codes below. */
export interface EventError {
  readonly code: string;
  readonly message: string;
}

/** Codes the consumer itself uses in `last_error` when the failure did not carry one. */
export const deadLetterCodes = {
  /** The bytes were not a valid envelope (or its type did not match the subject). */
  malformed: 'malformed_envelope',
  /** The handler returned `term` without a code. */
  terminated: 'terminated',
  /** The handler threw an error without a catalog code. */
  handlerError: 'handler_error',
  /** The handler kept returning `nak`. */
  retriesExhausted: 'retries_exhausted',
  /** Earlier deliveries ended without any outcome (a crash, or work longer than ackWait). */
  noOutcome: 'no_outcome',
} as const;

/** The payload of a `dlq.<subject>` event (doc/api/asyncapi/dlq.yaml, DeadLetterPayload). */
export interface DeadLetterPayload {
  /** The subject the message was delivered on, without a namespace. */
  readonly original_subject: string;
  /** The original message as parsed JSON (the envelope, when it was one); null when it was not a JSON object. */
  readonly original_envelope: Record<string, unknown> | null;
  /** The original bytes, only when they were not a JSON object. */
  readonly original_data_base64: string | null;
  readonly consumer: string;
  readonly stream_sequence: number;
  readonly deliveries: number;
  readonly last_error: EventError;
  readonly dead_lettered_at: string;
}

export type DeadLetterEnvelope = EventEnvelope<DeadLetterPayload>;

export function isDeadLetterSubject(subject: string): boolean {
  return subject.startsWith(DLQ_PREFIX);
}

export interface DeadLetterInput {
  js: JetStreamClient;
  namespace: string;
  msg: JsMsg;
  subject: string;
  lastError: EventError;
  /** The parsed original, when it was a valid envelope (its correlation id is carried over). */
  envelope: EventEnvelope | null;
}

/**
 * Publishes the failed message to `dlq.<subject>` (namespaced). Its event id is derived from the stream position
 * and the consumer, so a dead-lettering repeated after a crash (published, but the term was lost) is stored once.
 */
export async function publishDeadLetter(input: DeadLetterInput): Promise<DeadLetterEnvelope> {
  const { msg } = input;
  const original = input.envelope ?? asJsonObject(msg.data);
  const payload: DeadLetterPayload = {
    original_subject: input.subject,
    original_envelope: original as Record<string, unknown> | null,
    original_data_base64: original ? null : Buffer.from(msg.data).toString('base64'),
    consumer: msg.info.consumer,
    stream_sequence: msg.info.streamSequence,
    deliveries: msg.info.deliveryCount,
    last_error: { code: input.lastError.code, message: input.lastError.message.slice(0, 2000) },
    dead_lettered_at: new Date().toISOString(),
  };
  const originalCorrelation = input.envelope?.correlation_id ?? stringField(original, 'correlation_id') ?? msg.headers?.get(CORRELATION_ID_HEADER);
  // Catalog subjects are typed; a dead letter repeats whatever subject failed, which may be outside the catalog.
  const envelope = createEnvelope(dlqSubjectOf(input.subject) as EnvelopeSubject, payload, {
    correlationId: correlationIdFrom(originalCorrelation || undefined),
    eventId: deadLetterEventId(`${msg.info.stream}:${msg.info.consumer}:${msg.info.streamSequence}`, msg.time.getTime()),
  });
  await publishEvent(input.js, envelope, { namespace: input.namespace });
  return envelope;
}

/** Turns a thrown value into `last_error`, keeping a catalog-style `code` when the error carries one. */
export function eventErrorFrom(error: unknown, fallbackCode: string = deadLetterCodes.handlerError): EventError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: typeof code === 'string' && /^[a-z][a-z0-9_]*$/.test(code) && code.length <= 64 ? code : fallbackCode, message };
}

/** A UUID v7 stamped with the original message's time whose random bits come from a hash of `key`. */
function deadLetterEventId(key: string, msecs: number): string {
  const random = new Uint8Array(createHash('sha256').update(key).digest().subarray(0, 16));
  return uuidv7({ msecs, random });
}

function asJsonObject(data: Uint8Array): object | null {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function stringField(value: object | null, key: string): string | undefined {
  const field = (value as Record<string, unknown> | null)?.[key];
  return typeof field === 'string' ? field : undefined;
}

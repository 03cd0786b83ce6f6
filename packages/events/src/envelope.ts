import { v7 as uuidv7 } from 'uuid';
import { currentCorrelationId } from '@gpuaas/telemetry';
import type { Subject } from './subjects.js';

export const ENVELOPE_VERSION = 1;

/** What travels on every subject: the event's identity, type, time and correlation around a typed payload. */
export interface EventEnvelope<P = unknown, T extends string = string> {
  /** UUID v7: unique, time-ordered, and the JetStream `Nats-Msg-Id` that drops duplicate publishes. */
  readonly event_id: string;
  /** The subject the event is published on (without a namespace), e.g. `provisioning.requested`. */
  readonly event_type: T;
  /** RFC 3339, UTC. */
  readonly occurred_at: string;
  readonly version: number;
  readonly correlation_id: string;
  readonly payload: P;
}

/** Subjects an envelope may be created for: the catalog, plus their dead-letter twins. */
export type EnvelopeSubject = Subject | `dlq.${Subject}`;

export interface CreateEnvelopeOptions {
  /** Defaults to the correlation id of the work in progress (a request, or the event being handled). */
  correlationId?: string;
  occurredAt?: Date | string;
  /** Only for ids that must be reproducible (a retried dead-lettering); must be a UUID v7. */
  eventId?: string;
}

export function createEnvelope<S extends EnvelopeSubject, P>(subject: S, payload: P, options: CreateEnvelopeOptions = {}): EventEnvelope<P, S> {
  const occurredAt = options.occurredAt === undefined ? new Date() : new Date(options.occurredAt);
  if (Number.isNaN(occurredAt.getTime())) throw new TypeError(`occurredAt is not a valid time: ${String(options.occurredAt)}`);
  return {
    event_id: options.eventId ?? uuidv7(),
    event_type: subject,
    occurred_at: occurredAt.toISOString(),
    version: ENVELOPE_VERSION,
    correlation_id: options.correlationId ?? currentCorrelationId(),
    payload,
  };
}

export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(envelope));
}

/** A message that is not a well-formed envelope. Retrying cannot fix it, so consumers dead-letter it at once. */
export class MalformedEnvelopeError extends Error {
  override readonly name = 'MalformedEnvelopeError';
  constructor(readonly reason: string) {
    super(`Malformed event envelope: ${reason}`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SUBJECT = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Decodes and checks the envelope's shape; the payload's own shape is the handler's business. */
export function parseEnvelope(data: Uint8Array | string): EventEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (error) {
    throw new MalformedEnvelopeError(`not UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedEnvelopeError('not a JSON object');
  const record = value as Record<string, unknown>;
  const { event_id, event_type, occurred_at, version, correlation_id } = record;
  if (typeof event_id !== 'string' || !UUID.test(event_id)) throw new MalformedEnvelopeError('event_id must be a UUID');
  if (typeof event_type !== 'string' || !SUBJECT.test(event_type)) throw new MalformedEnvelopeError('event_type must be a subject such as "provisioning.requested"');
  if (typeof occurred_at !== 'string' || !RFC3339.test(occurred_at) || Number.isNaN(Date.parse(occurred_at))) throw new MalformedEnvelopeError('occurred_at must be an RFC 3339 time');
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new MalformedEnvelopeError('version must be a positive integer');
  if (typeof correlation_id !== 'string' || correlation_id.length === 0 || correlation_id.length > 128) throw new MalformedEnvelopeError('correlation_id must be a non-empty string');
  const payload = record['payload'];
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new MalformedEnvelopeError('payload must be a JSON object');
  return { event_id, event_type, occurred_at, version, correlation_id, payload };
}

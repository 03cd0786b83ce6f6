import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { context, propagation, type TextMapGetter } from '@opentelemetry/api';
import { withSpan } from '@gpuaas/telemetry';
import { encodeEnvelope, type EventEnvelope } from './envelope.js';
import { subjectFor } from './subjects.js';

/** Carries the envelope's correlation id outside the body, so tools that do not parse JSON can still follow it. */
export const CORRELATION_ID_HEADER = 'Correlation-Id';

export interface PublishOptions {
  namespace: string;
  /** Milliseconds to wait for the JetStream ack; the client's default otherwise. */
  timeoutMs?: number;
}

/**
 * Publishes an envelope on its subject (namespaced) with `Nats-Msg-Id = event_id`, so a republish of the same event
 * inside the stream's duplicate window is stored once; the returned ack says `duplicate: true` then.
 */
export async function publishEvent(js: JetStreamClient, envelope: EventEnvelope, options: PublishOptions): Promise<PubAck> {
  const subject = subjectFor(options.namespace, envelope.event_type);
  return withSpan(
    `publish ${envelope.event_type}`,
    { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': envelope.event_id, 'correlation.id': envelope.correlation_id },
    async (span) => {
      const h = headers();
      h.set(CORRELATION_ID_HEADER, envelope.correlation_id);
      // W3C trace context (traceparent), so the consumer's span continues this trace.
      propagation.inject(context.active(), h, { set: (carrier, key, value) => carrier.set(key, value) });
      const ack = await js.publish(subject, encodeEnvelope(envelope), {
        msgID: envelope.event_id,
        headers: h,
        ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      });
      span.setAttributes({ 'messaging.nats.stream': ack.stream, 'messaging.nats.sequence': ack.seq, 'messaging.nats.duplicate': ack.duplicate });
      return ack;
    },
  );
}

const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  get: (carrier, key) => carrier?.get(key) || undefined,
  keys: (carrier) => (carrier ? [...carrier.keys()] : []),
};

/** The trace context a publisher put in the headers, to parent the consumer's span. */
export function traceContextFrom(h: MsgHdrs | undefined) {
  return propagation.extract(context.active(), h, headerGetter);
}

import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { context } from '@opentelemetry/api';
import { runWithContext, withSpan, type Logger, type ServiceMetrics } from '@gpuaas/telemetry';
import { MalformedEnvelopeError, parseEnvelope, type EventEnvelope } from './envelope.js';
import { deadLetterCodes, eventErrorFrom, isDeadLetterSubject, publishDeadLetter, type EventError } from './dead-letter.js';
import { traceContextFrom } from './publish.js';
import { streamNameFor, subjectFor, subjectWithoutNamespace, type StreamName } from './subjects.js';

/** What a handler decided about a message; workers return one explicitly instead of acking themselves. */
export type HandlerOutcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nak'; readonly delayMs?: number; readonly reason?: string }
  | { readonly kind: 'term'; readonly reason: string; readonly code?: string };

export const outcome = {
  ack: (): HandlerOutcome => ({ kind: 'ack' }),
  /** Retry later; after maxDeliver deliveries the message is dead-lettered instead. */
  nak: (delayMs?: number, reason?: string): HandlerOutcome => ({ kind: 'nak', ...(delayMs === undefined ? {} : { delayMs }), ...(reason === undefined ? {} : { reason }) }),
  /** Never retry: the message is dead-lettered now, with `code` (an error-catalog code) as its last error. */
  term: (reason: string, code?: string): HandlerOutcome => ({ kind: 'term', reason, ...(code === undefined ? {} : { code }) }),
};

export interface MessageContext {
  /** The subject without the namespace. */
  readonly subject: string;
  readonly deliveryCount: number;
  readonly streamSequence: number;
  /** Extends the ack deadline for work that runs longer than ackWait. */
  working(): void;
}

export type EventHandler = (envelope: EventEnvelope, context: MessageContext) => Promise<HandlerOutcome>;

export interface ConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  stream: StreamName;
  /** Durable name; replicas using the same name compete for messages. */
  durable: string;
  /** Subjects (without namespace, wildcards allowed) to receive; the whole stream when omitted. */
  filterSubjects?: readonly string[];
  /** Deliveries before a failing message is dead-lettered. */
  maxDeliver?: number;
  ackWaitMs?: number;
  /** Delay before redelivery after a failure, by delivery count; exponential 1 s … 60 s by default. */
  retryDelayMs?: (deliveryCount: number) => number;
  /** Messages pulled per request. */
  batchSize?: number;
  /**
   * Messages handled at once (default 1: in order). Raise it only for handlers that are idempotent and lock what
   * they change, so two events of one entity may run side by side; acks stay per message.
   */
  concurrency?: number;
  handler: EventHandler;
  logger: Logger;
  metrics?: Pick<ServiceMetrics, 'messagesHandled'>;
}

export interface RunningConsumer {
  /** Stops pulling, lets the message in hand finish, hands buffered ones back for redelivery, then resolves. */
  stop(): Promise<void>;
}

const defaultRetryDelayMs = (deliveryCount: number) => Math.min(60_000, 1000 * 2 ** (deliveryCount - 1));

/**
 * A durable pull consumer with explicit acks. Each message runs in a span and in its envelope's correlation-id
 * context. Failures are retried with backoff up to `maxDeliver` deliveries; then, or at once for malformed and
 * terminated messages, the message is published to `dlq.<subject>` and terminated. The server-side max_deliver
 * is unlimited on purpose: this code decides, so a message is never dropped without reaching the DLQ.
 */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const maxDeliver = options.maxDeliver ?? 5;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const streamName = streamNameFor(options.namespace, options.stream);
  await ensureConsumer(options, streamName);
  const consumer = await options.js.consumers.get(streamName, options.durable);
  const log = options.logger.child({ consumer: options.durable, stream: streamName });

  let stopping = false;
  let messages: ConsumerMessages | undefined;

  const run = async () => {
    while (!stopping) {
      try {
        messages = await consumer.consume({ max_messages: options.batchSize ?? 10 });
        if (stopping) {
          await messages.close();
          break;
        }
        void logStatus(messages, log);
        const inFlight = new Set<Promise<void>>();
        try {
          for await (const msg of messages) {
            // Stopping: hand buffered messages straight back so another replica takes them now, not after ackWait.
            if (stopping) {
              msg.nak();
              continue;
            }
            const handled = handleMessage(msg, options, maxDeliver, log).finally(() => inFlight.delete(handled));
            inFlight.add(handled);
            if (inFlight.size >= concurrency) await Promise.race(inFlight);
          }
        } finally {
          await Promise.all(inFlight);
        }
      } catch (error) {
        if (stopping) break;
        log.error({ err: error }, 'consumer failed; restarting');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  const running = run();
  log.info({ filter_subjects: options.filterSubjects ?? [] }, 'consumer started');

  return {
    async stop() {
      if (stopping) return running;
      stopping = true;
      await messages?.close();
      await running;
      log.info('consumer stopped');
    },
  };
}

async function handleMessage(msg: JsMsg, options: ConsumerOptions, maxDeliver: number, log: Logger): Promise<void> {
  const subject = subjectWithoutNamespace(options.namespace, msg.subject) ?? msg.subject;
  const deliveryCount = msg.info.deliveryCount;
  const count = (result: string) => options.metrics?.messagesHandled.inc({ subject, outcome: result });

  let envelope: EventEnvelope;
  try {
    envelope = parseEnvelope(msg.data);
    if (envelope.event_type !== subject) throw new MalformedEnvelopeError(`event_type "${envelope.event_type}" does not match subject "${subject}"`);
  } catch (error) {
    const reason = error instanceof MalformedEnvelopeError ? error.message : String(error);
    log.warn({ subject, stream_sequence: msg.info.streamSequence }, reason);
    await deadLetter({ msg, subject, lastError: { code: deadLetterCodes.malformed, message: reason }, envelope: null }, options, log, count);
    return;
  }

  await runWithContext({ correlationId: envelope.correlation_id }, () =>
    context.with(traceContextFrom(msg.headers), () => withSpan(
      `consume ${subject}`,
      {
        'messaging.system': 'nats',
        'messaging.destination.name': msg.subject,
        'messaging.consumer.group.name': options.durable,
        'messaging.message.id': envelope.event_id,
        'messaging.nats.delivery_count': deliveryCount,
        'correlation.id': envelope.correlation_id,
      },
      async (span) => {
        const eventLog = log.child({ subject, event_id: envelope.event_id, delivery_count: deliveryCount });
        // A delivery past the limit means earlier ones ended without an outcome (a crash or ack timeout): do not retry it.
        if (deliveryCount > maxDeliver) {
          eventLog.error('delivered more times than allowed without an outcome');
          const lastError = { code: deadLetterCodes.noOutcome, message: `no outcome after ${deliveryCount - 1} deliveries` };
          await deadLetter({ msg, subject, lastError, envelope }, options, eventLog, count);
          return;
        }
        let result: HandlerOutcome;
        let failure: EventError | undefined;
        try {
          result = await options.handler(envelope, {
            subject,
            deliveryCount,
            streamSequence: msg.info.streamSequence,
            working: () => msg.working(),
          });
        } catch (error) {
          failure = eventErrorFrom(error);
          eventLog.warn({ err: error }, 'handler failed');
          span.recordException(error instanceof Error ? error : new Error(failure.message));
          result = { kind: 'nak' };
        }
        span.setAttribute('messaging.outcome', result.kind);

        if (result.kind === 'ack') {
          msg.ack();
          count('ack');
        } else if (result.kind === 'term') {
          eventLog.warn({ reason: result.reason }, 'handler terminated the message');
          const lastError = { code: result.code ?? deadLetterCodes.terminated, message: result.reason };
          await deadLetter({ msg, subject, lastError, envelope }, options, eventLog, count);
        } else if (deliveryCount >= maxDeliver) {
          const lastError = failure ?? { code: deadLetterCodes.retriesExhausted, message: result.reason ?? 'handler asked for a retry' };
          eventLog.error({ last_error: lastError }, 'giving up after the last allowed delivery');
          await deadLetter({ msg, subject, lastError, envelope }, options, eventLog, count);
        } else {
          msg.nak(result.delayMs ?? (options.retryDelayMs ?? defaultRetryDelayMs)(deliveryCount));
          count('nak');
        }
      },
    )),
  );
}

interface DeadLetterRequest {
  msg: JsMsg;
  subject: string;
  lastError: EventError;
  envelope: EventEnvelope | null;
}

async function deadLetter(request: DeadLetterRequest, options: ConsumerOptions, log: Logger, count: (result: string) => void): Promise<void> {
  const { msg } = request;
  // A dead letter that cannot be handled is not dead-lettered again (no dlq.dlq.*): it stays in the DLQ stream.
  if (isDeadLetterSubject(request.subject)) {
    log.error({ last_error: request.lastError }, 'dead letter could not be handled; terminating it');
    msg.term();
    count('term');
    return;
  }
  try {
    await publishDeadLetter({ js: options.js, namespace: options.namespace, ...request });
  } catch (error) {
    // The DLQ is unreachable: keep the message and try again later rather than lose it.
    log.error({ err: error }, 'dead-lettering failed; will retry');
    msg.nak((options.retryDelayMs ?? defaultRetryDelayMs)(msg.info.deliveryCount));
    count('nak');
    return;
  }
  // No reason text on the term: nats-server before 2.10.4 does not recognise `+TERM <reason>` and ignores it.
  msg.term();
  count('dead_lettered');
  log.warn({ last_error: request.lastError, dlq_subject: `dlq.${request.subject}` }, 'message dead-lettered');
}

async function ensureConsumer(options: ConsumerOptions, streamName: string): Promise<void> {
  const filters = (options.filterSubjects ?? []).map((subject) => subjectFor(options.namespace, subject));
  const config: Partial<ConsumerConfig> = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs ?? 30_000),
    max_deliver: -1,
    // One filter works on every server version; several need nats-server 2.10.
    ...(filters.length === 1 ? { filter_subject: filters[0] } : filters.length > 1 ? { filter_subjects: filters } : {}),
  };
  const { jsm } = options;
  const exists = async () => {
    try {
      await jsm.consumers.info(streamName, options.durable);
      return true;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) return false;
      throw error;
    }
  };
  const { durable_name: _name, deliver_policy: _policy, ack_policy: _ack, ...updatable } = config;
  if (await exists()) {
    await jsm.consumers.update(streamName, options.durable, updatable);
    return;
  }
  try {
    await jsm.consumers.add(streamName, config);
  } catch (error) {
    // Another replica created it first.
    if (!(await exists())) throw error;
    await jsm.consumers.update(streamName, options.durable, updatable);
  }
}

async function logStatus(messages: ConsumerMessages, log: Logger): Promise<void> {
  for await (const status of messages.status()) {
    if (status.type === 'heartbeats_missed' || status.type === 'consumer_not_found' || status.type === 'stream_not_found' || status.type === 'consumer_deleted') {
      log.warn({ status: status.type }, 'consumer status');
    } else {
      log.debug({ status: status.type }, 'consumer status');
    }
  }
}

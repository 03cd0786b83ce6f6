import { Counter } from 'prom-client';
import { outcome, startConsumer, type DeadLetterPayload, type EventEnvelope } from '@gpuaas/events';
import type { StartRole } from './role.js';

export const DLQ_DURABLE = 'dlq-handler';

/**
 * Records every dead letter for operators: an error log line carrying the original correlation id, and a counter by
 * original subject, consumer and error code to alert on. The DLQ stream itself keeps the message for replay.
 */
export const startDlqHandler: StartRole = async ({ config, logger, js, jsm, metrics }) => {
  const deadLetters = new Counter({
    name: 'dead_letters_total',
    help: 'Messages dead-lettered by consumers, by original subject, consumer and error code',
    labelNames: ['original_subject', 'consumer', 'code'],
    registers: [metrics.registry],
  });
  const log = logger.child({ role: 'dlq-handler' });
  const consumer = await startConsumer({
    js,
    jsm,
    namespace: config.natsNamespace,
    stream: 'DLQ',
    durable: DLQ_DURABLE,
    filterSubjects: ['dlq.>'],
    maxDeliver: config.maxDeliver,
    logger: log,
    metrics,
    handler: async (envelope) => {
      const letter = deadLetterOf(envelope);
      if (!letter) return outcome.term('not a dead letter payload', 'validation_error');
      deadLetters.inc({ original_subject: letter.original_subject, consumer: letter.consumer, code: letter.last_error.code });
      log.error(
        {
          dead_letter_id: envelope.event_id,
          original_subject: letter.original_subject,
          original_event_id: letter.original_envelope?.['event_id'] ?? null,
          consumer: letter.consumer,
          stream_sequence: letter.stream_sequence,
          deliveries: letter.deliveries,
          last_error: letter.last_error,
        },
        'dead letter received',
      );
      return outcome.ack();
    },
  });
  return { stop: () => consumer.stop() };
};

function deadLetterOf(envelope: EventEnvelope): DeadLetterPayload | undefined {
  const payload = envelope.payload as Partial<DeadLetterPayload>;
  const valid =
    typeof payload.original_subject === 'string' &&
    typeof payload.consumer === 'string' &&
    typeof payload.deliveries === 'number' &&
    typeof payload.last_error?.code === 'string' &&
    typeof payload.last_error.message === 'string';
  return valid ? (payload as DeadLetterPayload) : undefined;
}

import { outcome, startConsumer, subjectStream, type Subject } from '@gpuaas/events';
import { notificationSubjects, recordEventNotifications } from '@gpuaas/subgraph-platform';
import type { StartRole } from './role.js';

export const NOTIFICATION_RELAY_CONSUMER = 'notification-relay';

/**
 * Turns allocation, low-balance and payment events into per-user notifications (platform.notifications), which the
 * platform subgraph serves and pushes as notificationAdded. Idempotent by the (event_id, user_id) key, so
 * redeliveries and competing replicas notify each recipient once; a payload the message cannot be built from is
 * dead-lettered. One durable consumer per subject (a consumer with several filter subjects needs nats-server 2.10).
 */
export const startNotificationRelay: StartRole = async ({ config, logger, pool, js, jsm, metrics }) => {
  const log = logger.child({ role: 'notification-relay' });
  const consumers = await Promise.all(
    notificationSubjects.map((subject) =>
      startConsumer({
        js,
        jsm,
        namespace: config.natsNamespace,
        stream: subjectStream[subject satisfies Subject],
        durable: `${NOTIFICATION_RELAY_CONSUMER}-${subject.replace(/\./g, '-')}`,
        filterSubjects: [subject],
        maxDeliver: config.maxDeliver,
        ackWaitMs: config.consumerAckWaitMs,
        logger: log,
        metrics,
        handler: async (envelope) => {
          const result = await recordEventNotifications(pool, envelope);
          if (result.status === 'malformed') return outcome.term(`the ${subject} payload cannot be notified: ${result.reason}`, 'validation_error');
          log.debug({ event_id: envelope.event_id, subject, ...result }, 'notification event handled');
          return outcome.ack();
        },
      }),
    ),
  );
  return { stop: async () => void (await Promise.all(consumers.map((consumer) => consumer.stop()))) };
};

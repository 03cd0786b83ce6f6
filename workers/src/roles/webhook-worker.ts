import { outcome, startConsumer, subjects } from '@gpuaas/events';
import { handleStripeEventReceived } from '@gpuaas/subgraph-billing/payments';
import type { StartRole } from './role.js';

export const WEBHOOK_WORKER_DURABLE = 'webhook-worker';
/** A completion can overtake our own insert of its checkout session by a moment: look again soon. */
const NOT_READY_RETRY_MS = 2000;

/**
 * Applies verified Stripe webhook events the webhook route stored: checkout.session.completed → the payment and
 * payments.balance_credited (G's billing-worker books the ledger credit), expiries, refund settlements. The use case
 * is idempotent by the stored event's processed mark, so redeliveries and competing replicas apply an event once.
 */
export const startWebhookWorker: StartRole = async ({ config, logger, pool, js, jsm, metrics }) => {
  const log = logger.child({ role: 'webhook-worker' });
  const consumer = await startConsumer({
    js,
    jsm,
    namespace: config.natsNamespace,
    stream: 'PAYMENTS',
    durable: WEBHOOK_WORKER_DURABLE,
    filterSubjects: [subjects.paymentsStripeEventReceived],
    maxDeliver: config.maxDeliver,
    ackWaitMs: config.consumerAckWaitMs,
    logger: log,
    metrics,
    handler: async (envelope) => {
      const result = await handleStripeEventReceived({ pool, logger: log }, envelope);
      if (result === 'malformed') return outcome.term('the stored Stripe event cannot be applied', 'validation_error');
      if (result === 'not_ready') return outcome.nak(NOT_READY_RETRY_MS, 'checkout session not recorded yet');
      log.debug({ event_id: envelope.event_id, result }, 'stripe event handled');
      return outcome.ack();
    },
  });
  return { stop: () => consumer.stop() };
};

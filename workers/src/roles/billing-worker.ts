import { outcome, startConsumer } from '@gpuaas/events';
import { BILLING_CONSUMER, billingWorkerSubjects, handleMeteringEvent, runMeteringTick } from '@gpuaas/subgraph-billing';
import type { StartRole } from './role.js';

/**
 * Metering and the low-balance policy. Consumes allocation events (start/stop meters) and paid top-ups (ledger
 * credits), each idempotent by event id, and runs the metering tick every `metering_tick_seconds`: one transaction
 * that settles every running meter and applies the low-balance policy. Replicas may all tick; they serialise on the
 * wallet locks and the later one finds nothing to settle. One durable consumer per subject (see provisioning-worker).
 */
export const startBillingWorker: StartRole = async ({ config, logger, pool, js, jsm, metrics }) => {
  const log = logger.child({ role: 'billing-worker' });
  const deps = { pool, policies: config.policies };
  const consumers = await Promise.all(
    billingWorkerSubjects.map((subject) =>
      startConsumer({
        js,
        jsm,
        namespace: config.natsNamespace,
        stream: subject.startsWith('payments.') ? 'PAYMENTS' : 'PROVISIONING',
        durable: `${BILLING_CONSUMER}-${subject.replace(/\./g, '-')}`,
        filterSubjects: [subject],
        maxDeliver: config.maxDeliver,
        ackWaitMs: config.consumerAckWaitMs,
        logger: log,
        metrics,
        handler: async (envelope) => {
          const result = await handleMeteringEvent(deps, envelope);
          if (result === 'malformed') return outcome.term(`the ${subject} payload lacks what metering needs`, 'validation_error');
          log.debug({ event_id: envelope.event_id, subject, result }, 'billing event handled');
          return outcome.ack();
        },
      }),
    ),
  );

  let stopping = false;
  let ticking: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      const result = await runMeteringTick(pool, config.policies);
      log.debug({ ...result, chargedMinor: result.chargedMinor.toString() }, 'metering tick');
    } catch (error) {
      log.error({ err: error }, 'metering tick failed; the next tick settles the same time');
    }
  };
  const timer = setInterval(() => {
    if (stopping) return;
    ticking = ticking.then(tick);
  }, config.policies.metering_tick_seconds * 1000);

  return {
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      await ticking;
      await Promise.all(consumers.map((consumer) => consumer.stop()));
    },
  };
};

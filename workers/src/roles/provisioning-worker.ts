import { outcome, startConsumer } from '@gpuaas/events';
import { handleProvisioningEvent, PROVISIONING_CONSUMER, provisioningSubjects } from '@gpuaas/subgraph-compute';
import type { StartRole } from './role.js';

/**
 * Turns allocation events into node tasks: provisioning.requested → provision task, releasing.requested → release
 * task, force_release_requested → releasing. The use case is idempotent by event id and by the allocation's state,
 * so redeliveries after a crash are harmless; a failing message is retried with backoff, then dead-lettered.
 * One durable consumer per subject: a consumer with several filter subjects needs nats-server 2.10.
 */
/** Events of one subject handled at once by one worker process. */
const PROVISIONING_CONCURRENCY = 16;

export const startProvisioningWorker: StartRole = async ({ config, logger, pool, nats, js, jsm, metrics }) => {
  const log = logger.child({ role: 'provisioning-worker' });
  const deps = { pool, nats, logger: log, config: { natsNamespace: config.natsNamespace } };
  const consumers = await Promise.all(
    provisioningSubjects.map((subject) =>
      startConsumer({
        js,
        jsm,
        namespace: config.natsNamespace,
        stream: 'PROVISIONING',
        durable: `${PROVISIONING_CONSUMER}-${subject.replace(/^provisioning\./, '').replace(/\./g, '-')}`,
        filterSubjects: [subject],
        maxDeliver: config.maxDeliver,
        ackWaitMs: config.consumerAckWaitMs,
        // Each event locks its own allocation and is idempotent, so a burst of requests is placed side by side
        // instead of one transaction after another (see doc/benchmarks.md, time to active).
        concurrency: PROVISIONING_CONCURRENCY,
        batchSize: PROVISIONING_CONCURRENCY * 2,
        logger: log,
        metrics,
        handler: async (envelope) => {
          const result = await handleProvisioningEvent(deps, envelope);
          if (result === 'malformed') return outcome.term('the payload names no allocation_id', 'validation_error');
          log.debug({ event_id: envelope.event_id, subject: envelope.event_type, result }, 'provisioning event handled');
          return outcome.ack();
        },
      }),
    ),
  );
  return { stop: async () => void (await Promise.all(consumers.map((consumer) => consumer.stop()))) };
};

import { createOutboxRelay } from '@gpuaas/outbox';
import type { StartRole } from './role.js';

export const startOutboxRelay: StartRole = async ({ config, logger, pool, js, metrics }) => {
  const relay = await createOutboxRelay({
    pool,
    js,
    namespace: config.natsNamespace,
    logger,
    batchSize: config.outboxBatchSize,
    pollIntervalMs: config.outboxPollIntervalMs,
    registry: metrics.registry,
  });
  return { stop: () => relay.close() };
};

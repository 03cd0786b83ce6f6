import { randomUUID } from 'node:crypto';
import { runNodeMonitorTick } from '@gpuaas/subgraph-compute/nodes';
import type { RoleContext, StartRole } from './role.js';

/** Expired telemetry is swept this often: retention is counted in days, so a few minutes late costs nothing. */
const TELEMETRY_SWEEP_INTERVAL_MS = 10 * 60 * 1000;
const MAX_TICK_INTERVAL_MS = 5000;

/**
 * A node missing heartbeats is noticed within a third of the timeout (at most every 5 s): often enough that
 * `offline` follows the timeout closely, rarely enough to cost nothing. Several replicas may run it.
 */
export function nodeMonitorIntervalMs(context: Pick<RoleContext, 'config'>): number {
  return Math.max(100, Math.min(MAX_TICK_INTERVAL_MS, (context.config.policies.node_heartbeat_timeout_seconds * 1000) / 3));
}

/**
 * Whether silence can be judged yet: only once a whole heartbeat timeout has passed since this monitor started. After a
 * control-plane outage every node looks silent, though their agents only could not reach us; judging at once would
 * mark every allocation lost and stop its billing. The agents' next heartbeats land within the timeout.
 */
export function judgesSilence(nowMs: number, startedAtMs: number, heartbeatTimeoutSeconds: number): boolean {
  return nowMs - startedAtMs >= heartbeatTimeoutSeconds * 1000;
}

/** Marks silent nodes offline (their allocations lost), finishes drained nodes, and deletes expired telemetry. */
export const startNodeMonitor: StartRole = async (context) => {
  const { config, logger, pool, nats } = context;
  const log = logger.child({ role: 'node-monitor' });
  const deps = { pool, nats, config: { natsNamespace: config.natsNamespace, policies: config.policies } };
  const intervalMs = nodeMonitorIntervalMs(context);
  const startedAt = Date.now();
  let lastSweep = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    const correlationId = `node-monitor-${randomUUID()}`;
    const sweep = Date.now() - lastSweep >= TELEMETRY_SWEEP_INTERVAL_MS;
    try {
      const judgeSilence = judgesSilence(Date.now(), startedAt, config.policies.node_heartbeat_timeout_seconds);
      const result = await runNodeMonitorTick(deps, correlationId, sweep, { judgeSilence });
      if (sweep) lastSweep = Date.now();
      if (result.offline.length > 0) log.warn({ correlation_id: correlationId, node_ids: result.offline }, 'nodes went offline');
      if (result.cordoned.length > 0) log.info({ correlation_id: correlationId, node_ids: result.cordoned }, 'drained nodes cordoned');
      if (result.telemetryDeleted) log.info({ correlation_id: correlationId, deleted: result.telemetryDeleted }, 'expired telemetry deleted');
    } catch (error) {
      log.error({ err: error, correlation_id: correlationId }, 'node monitor pass failed; retrying next tick');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, intervalMs);
  };
  running = tick().finally(schedule);
  log.info({ interval_ms: intervalMs }, 'node monitor started');
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
};

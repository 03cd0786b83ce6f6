import type { ComputeDeps } from '../deps.js';
import { liveTelemetrySubject, publishLive } from '../live/signals.js';

/** One sample as the agent sends it (snake_case, the contract's AgentGuestTelemetrySample). */
export interface AgentSample {
  readonly allocation_id: string | null;
  readonly gpu_uuid: string;
  readonly mig_uuid: string | null;
  readonly sampled_at: string;
  readonly gpu_utilization_percent: number;
  readonly memory_used_bytes: number;
  readonly memory_total_bytes: number;
  readonly temperature_celsius: number | null;
  readonly power_watts: number | null;
}

const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Stores a batch in one statement. Samples naming an allocation not live on this node, or dated more than five
 * minutes ahead, are dropped and counted; re-sent samples hit the sample key and count as stored. Accepted samples
 * of each allocation are signalled to live dashboards after the insert.
 */
export async function ingestTelemetry(deps: ComputeDeps, nodeId: string, samples: readonly AgentSample[]): Promise<{ accepted: number; rejected: number }> {
  const horizon = Date.now() + FUTURE_TOLERANCE_MS;
  const timely = samples.filter((sample) => Date.parse(sample.sampled_at) <= horizon && sample.memory_used_bytes <= sample.memory_total_bytes);
  const allocationIds = [...new Set(timely.map((sample) => sample.allocation_id).filter((id): id is string => id !== null))];
  const live = new Set<string>();
  if (allocationIds.length > 0) {
    const { rows } = await deps.pool.query<{ id: string }>(
      `SELECT id FROM compute.allocations WHERE id = ANY ($1::uuid[]) AND node_id = $2 AND state IN ('provisioning', 'active', 'releasing')`,
      [allocationIds, nodeId],
    );
    for (const row of rows) live.add(row.id);
  }
  const kept = timely.filter((sample) => sample.allocation_id === null || live.has(sample.allocation_id));
  if (kept.length > 0) {
    await deps.pool.query(
      `INSERT INTO compute.guest_telemetry (node_id, allocation_id, gpu_uuid, slot_id, sampled_at, gpu_utilization_percent,
         memory_used_bytes, memory_total_bytes, temperature_celsius, power_milliwatts)
       SELECT $1, s.allocation_id, s.gpu_uuid,
              (SELECT sl.id FROM compute.slots sl WHERE sl.node_id = $1 AND sl.mig_uuid = s.mig_uuid LIMIT 1),
              s.sampled_at, round(s.util)::smallint, s.mem_used, s.mem_total, round(s.temp)::smallint, round(s.watts * 1000)::int
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::float8[], $7::bigint[], $8::bigint[], $9::float8[], $10::float8[])
            AS s(allocation_id, gpu_uuid, mig_uuid, sampled_at, util, mem_used, mem_total, temp, watts)
       ON CONFLICT (gpu_uuid, slot_id, sampled_at) DO NOTHING`,
      [
        nodeId,
        kept.map((s) => s.allocation_id),
        kept.map((s) => s.gpu_uuid),
        kept.map((s) => s.mig_uuid),
        kept.map((s) => s.sampled_at),
        kept.map((s) => s.gpu_utilization_percent),
        kept.map((s) => s.memory_used_bytes),
        kept.map((s) => s.memory_total_bytes),
        kept.map((s) => s.temperature_celsius),
        kept.map((s) => s.power_watts),
      ],
    );
    for (const allocationId of live) {
      publishLive(deps.nats, liveTelemetrySubject(deps.config.natsNamespace, allocationId), {
        allocationId,
        samples: kept.filter((sample) => sample.allocation_id === allocationId),
      });
    }
  }
  return { accepted: kept.length, rejected: samples.length - kept.length };
}

/** Deletes samples older than `telemetry_retention_days` in batches (walks the BRIN index on sampled_at). */
export async function deleteExpiredTelemetry(
  deps: { readonly pool: ComputeDeps['pool']; readonly config: { readonly policies: Pick<ComputeDeps['config']['policies'], 'telemetry_retention_days'> } },
  batchSize = 5000,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await deps.pool.query(
      `DELETE FROM compute.guest_telemetry WHERE id IN (
         SELECT id FROM compute.guest_telemetry WHERE sampled_at < now() - make_interval(days => $1) LIMIT $2)`,
      [deps.config.policies.telemetry_retention_days, batchSize],
    );
    deleted += rowCount ?? 0;
    if (!rowCount || rowCount < batchSize) return deleted;
  }
}

import { Validation } from '@gpuaas/errors';
import type { Db } from '../nodes/db.js';

export type TelemetryResolutionName = 'raw' | '10s' | '1m' | '5m' | '1h';

const BUCKET_SECONDS: Record<Exclude<TelemetryResolutionName, 'raw'>, number> = { '10s': 10, '1m': 60, '5m': 300, '1h': 3600 };
const MAX_BUCKETS = 1000;
const MAX_RAW_WINDOW_MS = 15 * 60 * 1000;
const DEFAULT_WINDOW_MS = 3600 * 1000;

export interface TelemetrySampleView {
  readonly sampledAt: Date;
  readonly gpuUtilizationPercent: number;
  readonly memoryUsedBytes: number;
  readonly memoryTotalBytes: number;
  readonly temperatureCelsius: number | null;
  readonly powerWatts: number | null;
}

export interface TelemetrySeriesView {
  readonly device: { readonly gpuUuid: string; readonly migUuid: string | null; readonly profile: string };
  readonly latest: TelemetrySampleView | null;
  readonly samples: readonly TelemetrySampleView[];
}

export interface AllocationTelemetryView {
  readonly allocationId: string;
  readonly from: Date;
  readonly to: Date;
  readonly resolution: TelemetryResolutionName;
  readonly series: readonly TelemetrySeriesView[];
}

export interface TelemetryWindowInput {
  readonly from?: Date | null;
  readonly to?: Date | null;
  readonly resolution?: TelemetryResolutionName | null;
}

/** Applies the defaults (to = now, from = an hour earlier, 1m) and the limits of the contract. */
export function telemetryWindow(input: TelemetryWindowInput, now = new Date()) {
  const resolution = input.resolution ?? '1m';
  const to = input.to ?? now;
  const from = input.from ?? new Date(to.getTime() - DEFAULT_WINDOW_MS);
  const span = to.getTime() - from.getTime();
  if (span <= 0) throw Validation([{ field: 'query.from', message: 'must be before to' }]);
  if (resolution === 'raw' && span > MAX_RAW_WINDOW_MS) {
    throw Validation([{ field: 'query.resolution', message: 'raw samples are served for windows of at most 15 minutes' }]);
  }
  if (resolution !== 'raw' && Math.ceil(span / 1000 / BUCKET_SECONDS[resolution]) > MAX_BUCKETS) {
    throw Validation([{ field: 'query.resolution', message: `the window spans more than ${MAX_BUCKETS} buckets at this resolution` }]);
  }
  return { from, to, resolution, bucketSeconds: resolution === 'raw' ? null : BUCKET_SECONDS[resolution] };
}

interface SampleJson {
  sampled_at: string;
  util: number;
  mem_used: number;
  mem_total: number;
  temp: number | null;
  watts: number | null;
}

const toSample = (row: SampleJson): TelemetrySampleView => ({
  sampledAt: new Date(row.sampled_at),
  gpuUtilizationPercent: row.util,
  memoryUsedBytes: Number(row.mem_used),
  memoryTotalBytes: Number(row.mem_total),
  temperatureCelsius: row.temp,
  powerWatts: row.watts,
});

/**
 * The allocation's device (from its slot) with its samples in [from, to) averaged into buckets aligned on `from`
 * (`raw`: as stored, at most 1,000) and its newest sample overall — one query, whatever the window. The caller has
 * already decided the reader may see the allocation. An allocation never placed has no series.
 */
export async function readAllocationTelemetry(db: Db, allocationId: string, input: TelemetryWindowInput): Promise<AllocationTelemetryView> {
  const window = telemetryWindow(input);
  const { rows } = await db.query<{ gpu_uuid: string; mig_uuid: string | null; profile: string; latest: SampleJson | null; samples: SampleJson[] | null }>(
    `WITH device AS (
       SELECT g.gpu_uuid, s.mig_uuid, p.name AS profile
       FROM compute.allocations a
       JOIN compute.slots s ON s.id = a.slot_id
       JOIN compute.node_gpus g ON g.id = s.node_gpu_id
       JOIN compute.slice_profiles p ON p.id = a.profile_id
       WHERE a.id = $1),
     bucketed AS (
       SELECT CASE WHEN $4::int IS NULL THEN t.sampled_at ELSE date_bin(make_interval(secs => $4::int), t.sampled_at, $2) END AS bucket,
              avg(t.gpu_utilization_percent)::float8 AS util, round(avg(t.memory_used_bytes))::bigint AS mem_used,
              round(avg(t.memory_total_bytes))::bigint AS mem_total, avg(t.temperature_celsius)::float8 AS temp,
              (avg(t.power_milliwatts) / 1000)::float8 AS watts
       FROM compute.guest_telemetry t
       WHERE t.allocation_id = $1 AND t.sampled_at >= $2 AND t.sampled_at < $3
       GROUP BY 1 ORDER BY 1 LIMIT ${MAX_BUCKETS}),
     newest AS (
       SELECT t.sampled_at, t.gpu_utilization_percent::float8 AS util, t.memory_used_bytes AS mem_used, t.memory_total_bytes AS mem_total,
              t.temperature_celsius::float8 AS temp, (t.power_milliwatts / 1000.0)::float8 AS watts
       FROM compute.guest_telemetry t WHERE t.allocation_id = $1 ORDER BY t.sampled_at DESC LIMIT 1)
     SELECT d.gpu_uuid, d.mig_uuid, d.profile,
            (SELECT row_to_json(n) FROM newest n) AS latest,
            (SELECT json_agg(json_build_object('sampled_at', b.bucket, 'util', b.util, 'mem_used', b.mem_used, 'mem_total', b.mem_total,
                                               'temp', b.temp, 'watts', b.watts) ORDER BY b.bucket) FROM bucketed b) AS samples
     FROM device d`,
    [allocationId, window.from, window.to, window.bucketSeconds],
  );
  return {
    allocationId,
    from: window.from,
    to: window.to,
    resolution: window.resolution,
    series: rows.map((row) => ({
      device: { gpuUuid: row.gpu_uuid, migUuid: row.mig_uuid, profile: row.profile },
      latest: row.latest ? toSample(row.latest) : null,
      samples: (row.samples ?? []).map(toSample),
    })),
  };
}

import type { TelemetryResolution } from '../generated/resolvers-types.js';
import type { AgentSample } from './ingest.js';
import type { AllocationTelemetryView, TelemetryResolutionName, TelemetrySampleView } from './queries.js';

const RESOLUTIONS: Record<TelemetryResolution, TelemetryResolutionName> = {
  RAW: 'raw',
  TEN_SECONDS: '10s',
  ONE_MINUTE: '1m',
  FIVE_MINUTES: '5m',
  ONE_HOUR: '1h',
};

export const toResolutionName = (resolution: TelemetryResolution): TelemetryResolutionName => RESOLUTIONS[resolution];

const toResolutionEnum = (name: TelemetryResolutionName): TelemetryResolution =>
  (Object.keys(RESOLUTIONS) as TelemetryResolution[]).find((key) => RESOLUTIONS[key] === name)!;

/** The GraphQL TelemetrySample (byte counts as strings: int64). */
export function toTelemetrySample(sample: TelemetrySampleView) {
  return {
    sampledAt: sample.sampledAt,
    gpuUtilizationPercent: sample.gpuUtilizationPercent,
    memoryUsedBytes: String(sample.memoryUsedBytes),
    memoryTotalBytes: String(sample.memoryTotalBytes),
    temperatureCelsius: sample.temperatureCelsius,
    powerWatts: sample.powerWatts,
  };
}

/** A sample as the agent posted it (the live telemetry signal's payload), as a GraphQL TelemetrySample. */
export function agentSampleToTelemetrySample(sample: AgentSample) {
  return toTelemetrySample({
    sampledAt: new Date(sample.sampled_at),
    gpuUtilizationPercent: sample.gpu_utilization_percent,
    memoryUsedBytes: sample.memory_used_bytes,
    memoryTotalBytes: sample.memory_total_bytes,
    temperatureCelsius: sample.temperature_celsius,
    powerWatts: sample.power_watts,
  });
}

export function toAllocationTelemetry(view: AllocationTelemetryView) {
  return {
    allocationId: view.allocationId,
    from: view.from,
    to: view.to,
    resolution: toResolutionEnum(view.resolution),
    series: view.series.map((series) => ({
      device: series.device,
      latest: series.latest ? toTelemetrySample(series.latest) : null,
      samples: series.samples.map(toTelemetrySample),
    })),
  };
}

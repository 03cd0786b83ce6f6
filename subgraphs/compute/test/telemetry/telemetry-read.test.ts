import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { ingestTelemetry, readAllocationTelemetry, telemetryWindow } from '../../src/telemetry/index.js';
import { placeAllocation, startNodeDeps, type NodeTestDeps } from '../nodes/support/node-deps.js';
import { nodeWithWholeSlot } from '../nodes/support/node-with-slot.js';

let env: NodeTestDeps;

beforeAll(async () => {
  env = await startNodeDeps();
});

afterAll(async () => {
  await env?.close();
});

const GIB = 1024 ** 3;

function sample(allocationId: string, gpuUuid: string, at: Date, util: number, memGib: number) {
  return {
    allocation_id: allocationId,
    gpu_uuid: gpuUuid,
    mig_uuid: null,
    sampled_at: at.toISOString(),
    gpu_utilization_percent: util,
    memory_used_bytes: memGib * GIB,
    memory_total_bytes: 80 * GIB,
    temperature_celsius: 60,
    power_watts: 300.5,
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('reading an allocation’s telemetry', () => {
  it('averages samples into buckets aligned on from, keeps raw samples as stored, and reports the newest sample', async () => {
    const node = await nodeWithWholeSlot(env);
    const allocationId = await placeAllocation(env, node.nodeId, node.slotId, 'active');
    const from = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000);
    const at = (seconds: number) => new Date(from.getTime() + seconds * 1000);
    const stored = await ingestTelemetry(env.deps, node.nodeId, [
      sample(allocationId, node.gpuUuid, at(0), 10, 10),
      sample(allocationId, node.gpuUuid, at(30), 30, 20),
      sample(allocationId, node.gpuUuid, at(70), 90, 40),
      sample(allocationId, node.gpuUuid, at(200), 50, 8),
    ]);
    expect(stored).toEqual({ accepted: 4, rejected: 0 });

    const perMinute = await readAllocationTelemetry(env.deps.pool, allocationId, { from, to: at(180), resolution: '1m' });
    expect(perMinute.series).toHaveLength(1);
    const [series] = perMinute.series;
    expect(series!.device).toEqual({ gpuUuid: node.gpuUuid, migUuid: null, profile: 'whole' });
    expect(series!.samples).toEqual([
      { sampledAt: at(0), gpuUtilizationPercent: 20, memoryUsedBytes: 15 * GIB, memoryTotalBytes: 80 * GIB, temperatureCelsius: 60, powerWatts: 300.5 },
      { sampledAt: at(60), gpuUtilizationPercent: 90, memoryUsedBytes: 40 * GIB, memoryTotalBytes: 80 * GIB, temperatureCelsius: 60, powerWatts: 300.5 },
    ]);
    // The newest sample lies outside the window and still is the latest.
    expect(series!.latest).toMatchObject({ sampledAt: at(200), gpuUtilizationPercent: 50, memoryUsedBytes: 8 * GIB });

    const raw = await readAllocationTelemetry(env.deps.pool, allocationId, { from, to: at(600), resolution: 'raw' });
    expect(raw.series[0]!.samples.map((s) => s.sampledAt)).toEqual([at(0), at(30), at(70), at(200)]);
  });

  it('gives a placed allocation without samples a device with no latest sample, and an unplaced one no series', async () => {
    const node = await nodeWithWholeSlot(env);
    const allocationId = await placeAllocation(env, node.nodeId, node.slotId, 'provisioning');
    const quiet = await readAllocationTelemetry(env.deps.pool, allocationId, {});
    expect(quiet.series).toEqual([{ device: { gpuUuid: node.gpuUuid, migUuid: null, profile: 'whole' }, latest: null, samples: [] }]);
    expect(quiet.resolution).toBe('1m');
    expect(quiet.to.getTime() - quiet.from.getTime()).toBe(3600_000);

    const missing = await readAllocationTelemetry(env.deps.pool, '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a7b', {});
    expect(missing.series).toEqual([]);
  });

  it('refuses windows that are empty, longer than 1,000 buckets, or raw beyond 15 minutes', () => {
    const to = new Date('2026-11-27T12:00:00Z');
    expect(codeOf(() => telemetryWindow({ from: to, to }))).toBe('validation_error');
    expect(codeOf(() => telemetryWindow({ from: new Date(to.getTime() - 10_001_000), to, resolution: '10s' }))).toBe('validation_error');
    expect(codeOf(() => telemetryWindow({ from: new Date(to.getTime() - 10_000_000), to, resolution: '10s' }))).toBe('no error');
    expect(codeOf(() => telemetryWindow({ from: new Date(to.getTime() - 16 * 60_000), to, resolution: 'raw' }))).toBe('validation_error');
    expect(telemetryWindow({ to }).from).toEqual(new Date('2026-11-27T11:00:00Z'));
  });
});

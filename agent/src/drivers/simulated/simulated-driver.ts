import { setTimeout as delay } from 'node:timers/promises';
import { DriverError, type DeviceSample, type DiscoveredGpu, type GpuDriver, type ProvisionResult, type RunningAllocation } from '../driver.js';
import { buildSimulatedGpus, defaultSimulatedLayout, type SimulatedLayout } from './layout.js';
import { seededRandom } from './random.js';

export interface SimulatedDriverOptions {
  /** Seeds the GPU/MIG UUIDs; use the node's hostname so a restart reports the same devices. */
  readonly hostSeed: string;
  readonly layout?: SimulatedLayout;
  /** How long a provision takes. */
  readonly provisionDelayMs?: number;
  /** Share of provisions that fail (0..1), decided by `random`. */
  readonly failureRate?: number;
  /** Defaults to a PRNG seeded by `seed`. */
  readonly random?: () => number;
  readonly seed?: number;
  /** Host the fake guests are reachable on. */
  readonly sshHost?: string;
}

interface Guest extends RunningAllocation {
  readonly result: ProvisionResult;
  readonly startedAt: number;
}

/**
 * Fakes a GPU host: a fixed layout of cards and MIG slices, guests that "boot" after a delay and sometimes fail,
 * and plausible telemetry for the devices they hold. Idempotent by allocation id, like a real driver must be.
 */
export function createSimulatedDriver(options: SimulatedDriverOptions): GpuDriver & { readonly gpus: readonly DiscoveredGpu[] } {
  const gpus = buildSimulatedGpus(options.layout ?? defaultSimulatedLayout, options.hostSeed);
  const random = options.random ?? seededRandom(options.seed ?? Date.now());
  const guests = new Map<string, Guest>();
  const failureRate = options.failureRate ?? 0;

  function deviceOf(request: { readonly gpuUuid: string; readonly migUuid: string | null }) {
    const gpu = gpus.find((candidate) => candidate.uuid === request.gpuUuid);
    if (!gpu) throw new DriverError('device_not_found', `No GPU ${request.gpuUuid} on this host`);
    if (request.migUuid === null) {
      if (gpu.migMode === 'enabled') throw new DriverError('device_not_found', `GPU ${gpu.uuid} is split into MIG instances; name one`);
      return { gpu, memoryBytes: gpu.memoryBytes };
    }
    const instance = gpu.instances.find((candidate) => candidate.migUuid === request.migUuid);
    if (!instance) throw new DriverError('device_not_found', `No MIG device ${request.migUuid} on GPU ${gpu.uuid}`);
    return { gpu, memoryBytes: Math.round((gpu.memoryBytes * instance.placement.size) / 8) };
  }

  return {
    kind: 'simulated',
    gpus,
    async discover() {
      return gpus.map((gpu) => ({ ...gpu, instances: [...gpu.instances] }));
    },
    async provision(request, signal) {
      const existing = guests.get(request.allocationId);
      if (existing) {
        if (existing.gpuUuid === request.gpuUuid && existing.migUuid === request.migUuid) return existing.result;
        throw new DriverError('conflict', `Allocation ${request.allocationId} already runs on another device`);
      }
      deviceOf(request);
      const holder = [...guests.values()].find((guest) => guest.gpuUuid === request.gpuUuid && (guest.migUuid === request.migUuid || guest.migUuid === null || request.migUuid === null));
      if (holder) throw new DriverError('device_busy', `The device is held by allocation ${holder.allocationId}`);
      if (options.provisionDelayMs) await delay(options.provisionDelayMs, undefined, { signal });
      if (random() < failureRate) throw new DriverError('provision_failed', 'Simulated provisioning failure');
      // Re-check after the delay: a concurrent attempt for the same allocation may have finished first.
      const raced = guests.get(request.allocationId);
      if (raced) return raced.result;
      const result = { sshHost: options.sshHost ?? '127.0.0.1', sshPort: 22000 + (guests.size % 1000), sshUser: 'ubuntu' };
      guests.set(request.allocationId, { allocationId: request.allocationId, gpuUuid: request.gpuUuid, migUuid: request.migUuid, result, startedAt: Date.now() });
      return result;
    },
    async release(request) {
      guests.delete(request.allocationId);
    },
    async running() {
      return [...guests.values()].map(({ allocationId, gpuUuid, migUuid }) => ({ allocationId, gpuUuid, migUuid }));
    },
    async sample() {
      const sampledAt = new Date();
      return [...guests.values()].map((guest): DeviceSample => {
        const { gpu, memoryBytes } = deviceOf(guest);
        const utilization = Math.round((55 + random() * 40) * 10) / 10;
        return {
          gpuUuid: gpu.uuid,
          migUuid: guest.migUuid,
          sampledAt,
          gpuUtilizationPercent: utilization,
          memoryUsedBytes: Math.round(memoryBytes * (0.3 + random() * 0.5)),
          memoryTotalBytes: memoryBytes,
          temperatureCelsius: Math.round(35 + utilization * 0.35),
          powerWatts: Math.round((70 + utilization * 6) * 10) / 10,
        };
      });
    },
  };
}

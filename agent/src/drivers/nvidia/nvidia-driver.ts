import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DriverError, type DeviceSample, type DiscoveredGpu, type GpuDriver, type MigInstance } from '../driver.js';
import { parseGpuInstances, parseGpuList, type ListedGpuInstance, type ListedMigDevice } from './listings.js';
import { parseSmiLog, type SmiGpu } from './smi-xml.js';

/** Runs a command and answers its stdout; injectable so tests feed captured outputs. */
export type CommandRunner = (command: string, args: readonly string[]) => Promise<string>;

const execFileAsync = promisify(execFile);

export const runCommand: CommandRunner = async (command, args) => {
  try {
    const { stdout } = await execFileAsync(command, [...args], { maxBuffer: 32 * 1024 * 1024, timeout: 30_000 });
    return stdout;
  } catch (error) {
    throw new DriverError('driver_error', `${command} ${args.join(' ')} failed: ${(error as Error).message}`);
  }
};

export interface NvidiaDriverOptions {
  readonly run?: CommandRunner;
  /** Path or name of nvidia-smi. */
  readonly nvidiaSmi?: string;
}

/**
 * Real NVIDIA hosts. Discovery and telemetry come from `nvidia-smi -q -x`; MIG profiles and placements from
 * `nvidia-smi mig -lgi` and MIG UUIDs from `nvidia-smi -L`, because the XML names neither. Provisioning guests is
 * not implemented for this driver yet and answers `not_supported`.
 */
export function createNvidiaDriver(options: NvidiaDriverOptions = {}): GpuDriver {
  const run = options.run ?? runCommand;
  const smi = options.nvidiaSmi ?? 'nvidia-smi';
  const queryLog = async () => parseSmiLog(await run(smi, ['-q', '-x']));

  return {
    kind: 'nvidia',
    async discover() {
      const log = await queryLog();
      const anyMig = log.gpus.some((gpu) => gpu.migMode === 'enabled' && gpu.migDevices.length > 0);
      const listed = anyMig ? parseGpuList(await run(smi, ['-L'])) : new Map<string, ListedMigDevice[]>();
      const instances = anyMig ? parseGpuInstances(await run(smi, ['mig', '-lgi'])) : [];
      return log.gpus.map((gpu) => toDiscoveredGpu(gpu, listed.get(gpu.uuid) ?? [], instances));
    },
    async provision() {
      throw new DriverError('not_supported', 'The nvidia driver does not provision guests yet; run the simulated driver for provisioning');
    },
    async release() {
      throw new DriverError('not_supported', 'The nvidia driver does not release guests yet; run the simulated driver for provisioning');
    },
    async running() {
      return [];
    },
    async sample() {
      const log = await queryLog();
      const anyMig = log.gpus.some((gpu) => gpu.migMode === 'enabled' && gpu.migDevices.length > 0);
      const listed = anyMig ? parseGpuList(await run(smi, ['-L'])) : new Map<string, ListedMigDevice[]>();
      return samplesOf(log.gpus, listed, new Date());
    },
  };
}

/** Joins one XML GPU with its `-L` MIG devices (by device index) and `-lgi` rows (by GPU index and GI id). */
export function toDiscoveredGpu(gpu: SmiGpu, listed: readonly ListedMigDevice[], gpuInstances: readonly ListedGpuInstance[]): DiscoveredGpu {
  const instances: MigInstance[] = gpu.migMode !== 'enabled' ? [] : gpu.migDevices.map((device) => {
    const listing = listed.find((entry) => entry.deviceIndex === device.index);
    const gpuInstance = gpuInstances.find((row) => row.gpuIndex === gpu.index && row.gpuInstanceId === device.gpuInstanceId);
    if (!listing || !gpuInstance) {
      throw new DriverError('driver_error', `MIG device ${device.index} (GI ${device.gpuInstanceId}) of ${gpu.uuid} is missing from nvidia-smi -L or nvidia-smi mig -lgi`);
    }
    return {
      profile: gpuInstance.profile,
      placement: gpuInstance.placement,
      gpuInstanceId: device.gpuInstanceId,
      computeInstanceId: device.computeInstanceId,
      migUuid: listing.migUuid,
    };
  });
  return { uuid: gpu.uuid, index: gpu.index, name: gpu.name, memoryBytes: gpu.memoryTotalBytes, migMode: gpu.migMode, instances };
}

/**
 * One sample per whole card, or per MIG device of a card in MIG mode. nvidia-smi reports no utilization for MIG
 * devices (N/A), so a slice's utilization reads 0; its memory is its own, temperature and power are its card's.
 */
export function samplesOf(gpus: readonly SmiGpu[], listed: ReadonlyMap<string, readonly ListedMigDevice[]>, sampledAt: Date): DeviceSample[] {
  return gpus.flatMap((gpu): DeviceSample[] => {
    const card = { gpuUuid: gpu.uuid, sampledAt, temperatureCelsius: gpu.temperatureCelsius, powerWatts: gpu.powerWatts };
    if (gpu.migMode === 'enabled' && gpu.migDevices.length > 0) {
      return gpu.migDevices.flatMap((device): DeviceSample[] => {
        const migUuid = listed.get(gpu.uuid)?.find((entry) => entry.deviceIndex === device.index)?.migUuid;
        if (!migUuid || device.memoryTotalBytes === null) return [];
        return [{ ...card, migUuid, gpuUtilizationPercent: 0, memoryUsedBytes: device.memoryUsedBytes ?? 0, memoryTotalBytes: device.memoryTotalBytes }];
      });
    }
    return [{ ...card, migUuid: null, gpuUtilizationPercent: gpu.gpuUtilizationPercent ?? 0, memoryUsedBytes: gpu.memoryUsedBytes ?? 0, memoryTotalBytes: gpu.memoryTotalBytes }];
  });
}

import { XMLParser } from 'fast-xml-parser';
import { DriverError, type MigMode } from '../driver.js';

/** One `<mig_device>` of `nvidia-smi -q -x`: it names ids and memory but neither the profile nor the MIG UUID. */
export interface SmiMigDevice {
  readonly index: number;
  readonly gpuInstanceId: number;
  readonly computeInstanceId: number;
  readonly multiprocessorCount: number | null;
  readonly memoryTotalBytes: number | null;
  readonly memoryUsedBytes: number | null;
}

/** One `<gpu>` of `nvidia-smi -q -x`, reduced to what discovery and telemetry need. */
export interface SmiGpu {
  /** Position in the log, which is nvidia-smi's GPU index. */
  readonly index: number;
  readonly pciBusId: string;
  readonly uuid: string;
  readonly name: string;
  readonly migMode: MigMode;
  readonly memoryTotalBytes: number;
  readonly memoryUsedBytes: number | null;
  /** Null where the driver answers N/A (e.g. a card in MIG mode). */
  readonly gpuUtilizationPercent: number | null;
  readonly temperatureCelsius: number | null;
  readonly powerWatts: number | null;
  readonly migDevices: readonly SmiMigDevice[];
}

export interface SmiLog {
  readonly driverVersion: string | null;
  readonly gpus: readonly SmiGpu[];
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'gpu' || name === 'mig_device',
});

/** Parses the output of `nvidia-smi -q -x`; a document that is not an nvidia_smi_log is a DriverError. */
export function parseSmiLog(xml: string): SmiLog {
  let document: Node;
  try {
    document = parser.parse(xml) as Node;
  } catch (error) {
    throw new DriverError('driver_error', `nvidia-smi -q -x printed no valid XML: ${(error as Error).message}`);
  }
  const log = document['nvidia_smi_log'];
  if (!isNode(log)) throw new DriverError('driver_error', 'nvidia-smi -q -x printed no <nvidia_smi_log>');
  const gpus = (Array.isArray(log['gpu']) ? log['gpu'] : []).filter(isNode).map(toGpu);
  return { driverVersion: text(log['driver_version']), gpus };
}

function toGpu(gpu: Node, index: number): SmiGpu {
  const uuid = text(gpu['uuid']);
  const name = text(gpu['product_name']);
  const memoryTotalBytes = mebibytes(child(gpu, 'fb_memory_usage', 'total'));
  if (!uuid || !name || memoryTotalBytes === null) {
    throw new DriverError('driver_error', `nvidia-smi -q -x lists GPU ${index} without uuid, product_name or fb_memory_usage`);
  }
  const devices = child(gpu, 'mig_devices', 'mig_device');
  return {
    index,
    pciBusId: text(gpu['@_id']) ?? '',
    uuid,
    name,
    migMode: text(child(gpu, 'mig_mode', 'current_mig'))?.toLowerCase() === 'enabled' ? 'enabled' : 'disabled',
    memoryTotalBytes,
    memoryUsedBytes: mebibytes(child(gpu, 'fb_memory_usage', 'used')),
    gpuUtilizationPercent: numberWithUnit(child(gpu, 'utilization', 'gpu_util'), '%'),
    temperatureCelsius: numberWithUnit(child(gpu, 'temperature', 'gpu_temp'), 'C'),
    // Drivers up to 535 report <power_readings>; later ones <gpu_power_readings> with average and instant draws
    // (580 has no plain power_draw there). The 1 s average comes first: it is what `--query-gpu=power.draw`
    // answers on an H100 with driver 580, and steadier between samples; instant is the fallback where it is N/A.
    powerWatts:
      numberWithUnit(child(gpu, 'power_readings', 'power_draw'), 'W') ??
      numberWithUnit(child(gpu, 'gpu_power_readings', 'power_draw'), 'W') ??
      numberWithUnit(child(gpu, 'gpu_power_readings', 'average_power_draw'), 'W') ??
      numberWithUnit(child(gpu, 'gpu_power_readings', 'instant_power_draw'), 'W'),
    migDevices: (Array.isArray(devices) ? devices : []).filter(isNode).map(toMigDevice),
  };
}

function toMigDevice(device: Node): SmiMigDevice {
  const index = integer(device['index']);
  const gpuInstanceId = integer(device['gpu_instance_id']);
  const computeInstanceId = integer(device['compute_instance_id']);
  if (index === null || gpuInstanceId === null || computeInstanceId === null) {
    throw new DriverError('driver_error', 'nvidia-smi -q -x lists a MIG device without index, gpu_instance_id or compute_instance_id');
  }
  return {
    index,
    gpuInstanceId,
    computeInstanceId,
    multiprocessorCount: integer(child(device, 'device_attributes', 'shared', 'multiprocessor_count')),
    memoryTotalBytes: mebibytes(child(device, 'fb_memory_usage', 'total')),
    memoryUsedBytes: mebibytes(child(device, 'fb_memory_usage', 'used')),
  };
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(node: Node, ...path: string[]): unknown {
  let current: unknown = node;
  for (const key of path) {
    if (!isNode(current)) return undefined;
    current = current[key];
  }
  return current;
}

function text(value: unknown): string | null {
  if (typeof value === 'string' || typeof value === 'number') {
    const trimmed = String(value).trim();
    return trimmed === '' ? null : trimmed;
  }
  return null;
}

function integer(value: unknown): number | null {
  const raw = text(value);
  return raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
}

/** "66.92 W" → 66.92; "N/A" or a different unit → null. */
function numberWithUnit(value: unknown, unit: string): number | null {
  const match = text(value)?.match(/^(-?\d+(?:\.\d+)?)\s*(\S+)$/);
  return match && match[2] === unit ? Number(match[1]) : null;
}

function mebibytes(value: unknown): number | null {
  const mib = numberWithUnit(value, 'MiB');
  return mib === null ? null : Math.round(mib * 1024 * 1024);
}

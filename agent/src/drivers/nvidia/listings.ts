/** One MIG device line of `nvidia-smi -L`: `  MIG 3g.20gb     Device  0: (UUID: MIG-…)`. */
export interface ListedMigDevice {
  readonly profile: string;
  readonly deviceIndex: number;
  readonly migUuid: string;
}

/** MIG devices of `nvidia-smi -L` by their GPU's UUID, in the order listed (the order of `<mig_device>` indexes). */
export function parseGpuList(output: string): Map<string, ListedMigDevice[]> {
  const byGpu = new Map<string, ListedMigDevice[]>();
  let current: ListedMigDevice[] | undefined;
  for (const line of output.split(/\r?\n/)) {
    const gpu = line.match(/^GPU\s+\d+:.*\(UUID:\s*(GPU-[0-9a-fA-F-]+)\)/);
    if (gpu) {
      current = [];
      byGpu.set(gpu[1]!, current);
      continue;
    }
    const mig = line.match(/^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s*\(UUID:\s*(MIG-[^)\s]+)\)/);
    if (mig && current) current.push({ profile: mig[1]!, deviceIndex: Number(mig[2]), migUuid: mig[3]! });
  }
  return byGpu;
}

/** One row of `nvidia-smi mig -lgi`: a GPU instance with its profile and memory-slice placement. */
export interface ListedGpuInstance {
  readonly gpuIndex: number;
  readonly profile: string;
  readonly profileId: number;
  readonly gpuInstanceId: number;
  readonly placement: { readonly start: number; readonly size: number };
}

/** Rows of the `nvidia-smi mig -lgi` table (`|   0  MIG 3g.20gb       9        1          4:4     |`). */
export function parseGpuInstances(output: string): ListedGpuInstance[] {
  const rows: ListedGpuInstance[] = [];
  for (const line of output.split(/\r?\n/)) {
    const row = line.match(/^\|\s*(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+):(\d+)\s*\|/);
    if (!row) continue;
    rows.push({
      gpuIndex: Number(row[1]),
      profile: row[2]!,
      profileId: Number(row[3]),
      gpuInstanceId: Number(row[4]),
      placement: { start: Number(row[5]), size: Number(row[6]) },
    });
  }
  return rows;
}

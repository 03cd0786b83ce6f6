import { createHash } from 'node:crypto';
import { z } from '@gpuaas/config';
import type { DiscoveredGpu, MigInstance } from '../driver.js';

const GIB = 1024 ** 3;

const migEntry = z.union([
  z.string().regex(/^\d+g\.\d+gb$/),
  z.object({ profile: z.string().regex(/^\d+g\.\d+gb$/), start: z.number().int().min(0).max(7), size: z.number().int().min(1).max(8) }),
]);

const gpuGroup = z.object({
  name: z.string().min(1).max(128).default('NVIDIA H100 80GB HBM3'),
  memory_gib: z.number().positive().default(80),
  /** How many identical cards this entry describes. */
  count: z.number().int().min(1).max(16).default(1),
  /** MIG instances by profile (placement computed first-fit) or with an explicit placement; absent = whole card. */
  mig: z.array(migEntry).max(7).optional(),
});

export const simulatedLayoutSchema = z.object({ gpus: z.array(gpuGroup).min(1).max(16) });
export type SimulatedLayout = z.input<typeof simulatedLayoutSchema>;

/** 2× H100 split into seven 1g.10gb slices and 1× whole H100: the layout the demo and tests use by default. */
export const defaultSimulatedLayout: SimulatedLayout = {
  gpus: [
    { name: 'NVIDIA H100 80GB HBM3', memory_gib: 80, count: 2, mig: Array.from({ length: 7 }, () => '1g.10gb') },
    { name: 'NVIDIA H100 80GB HBM3', memory_gib: 80, count: 1 },
  ],
};

/** Where a profile may sit on an 8-slice card (A100/H100 MIG geometry, keyed by compute sevenths). */
const geometry: Record<number, { size: number; starts: number[] }> = {
  1: { size: 1, starts: [0, 1, 2, 3, 4, 5, 6] },
  2: { size: 2, starts: [0, 2, 4] },
  3: { size: 4, starts: [0, 4] },
  4: { size: 4, starts: [0] },
  7: { size: 8, starts: [0] },
};

export class LayoutError extends Error {}

/**
 * Turns a layout into the GPUs a simulated host has. UUIDs derive from the host name and position, so a restarted
 * agent reports the same devices (the platform keys slots by them).
 */
export function buildSimulatedGpus(layout: SimulatedLayout, hostSeed: string): DiscoveredGpu[] {
  const parsed = simulatedLayoutSchema.safeParse(layout);
  if (!parsed.success) throw new LayoutError(`invalid simulated layout: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  const gpus: DiscoveredGpu[] = [];
  for (const group of parsed.data.gpus) {
    for (let copy = 0; copy < group.count; copy++) {
      const index = gpus.length;
      const uuid = `GPU-${stableUuid(`${hostSeed}/gpu/${index}`)}`;
      const instances = group.mig ? placeInstances(group.mig, uuid) : [];
      gpus.push({ uuid, index, name: group.name, memoryBytes: Math.round(group.memory_gib * GIB), migMode: group.mig ? 'enabled' : 'disabled', instances });
    }
  }
  if (gpus.length > 16) throw new LayoutError('a simulated host has at most 16 GPUs');
  return gpus;
}

function placeInstances(entries: z.infer<typeof migEntry>[], gpuUuid: string): MigInstance[] {
  const used = new Array<boolean>(8).fill(false);
  return entries.map((entry, position) => {
    const profile = typeof entry === 'string' ? entry : entry.profile;
    const placement = typeof entry === 'string' ? firstFit(profile, used) : { start: entry.start, size: entry.size };
    for (let slice = placement.start; slice < placement.start + placement.size; slice++) {
      if (slice > 7 || used[slice]) throw new LayoutError(`MIG ${profile} at ${placement.start}:${placement.size} overlaps another instance or leaves the card`);
      used[slice] = true;
    }
    const gpuInstanceId = position + 1;
    return { profile, placement, gpuInstanceId, computeInstanceId: 0, migUuid: `MIG-${stableUuid(`${gpuUuid}/gi/${gpuInstanceId}`)}` };
  });
}

function firstFit(profile: string, used: readonly boolean[]): { start: number; size: number } {
  const fit = geometry[Number(profile.split('g.')[0])];
  if (!fit) throw new LayoutError(`no MIG geometry for profile ${profile}; give its start and size`);
  const start = fit.starts.find((candidate) => used.slice(candidate, candidate + fit.size).every((slot) => !slot));
  if (start === undefined) throw new LayoutError(`no free placement left for MIG ${profile}`);
  return { start, size: fit.size };
}

/** A UUID-shaped hex string derived from a name. */
export function stableUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

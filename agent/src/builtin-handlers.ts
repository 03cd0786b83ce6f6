import { z } from '@gpuaas/config';
import { DriverError, type DiscoveredGpu, type GpuDriver } from './drivers/driver.js';
import type { TaskHandler, TaskHandlerRegistry } from './task-handlers.js';

/**
 * The contract's provision payload is `{gpu_uuid, mig_uuid, slice_profile, os_image, ssh_public_keys}` (strings). The
 * platform also sends the placed slot (`slot: {gpu_uuid, gpu_instance_id, profile}`), the image as an object and the
 * keys as objects; both forms are read so an agent works against either.
 */
const provisionPayload = z
  .object({
    gpu_uuid: z.string().min(1).optional(),
    mig_uuid: z.string().min(1).nullable().optional(),
    slice_profile: z.string().min(1).optional(),
    slot: z
      .object({
        gpu_uuid: z.string().min(1),
        gpu_instance_id: z.number().int().nullable().optional(),
        mig_uuid: z.string().min(1).nullable().optional(),
        profile: z.string().min(1),
      })
      .passthrough()
      .optional(),
    os_image: z.union([
      z.string().min(1),
      z.object({ id: z.string().optional(), name: z.string().nullable().optional(), version: z.string().nullable().optional() }).passthrough(),
    ]),
    ssh_public_keys: z.array(z.union([z.string(), z.object({ public_key: z.string() }).passthrough()])).default([]),
  })
  .passthrough()
  .refine((payload) => Boolean(payload.gpu_uuid ?? payload.slot?.gpu_uuid), { message: 'names no GPU (gpu_uuid or slot.gpu_uuid)', path: ['gpu_uuid'] })
  .refine((payload) => Boolean(payload.slice_profile ?? payload.slot?.profile), { message: 'names no profile (slice_profile or slot.profile)', path: ['slice_profile'] });

type ProvisionPayload = z.infer<typeof provisionPayload>;

function osImageName(image: ProvisionPayload['os_image']): string {
  if (typeof image === 'string') return image;
  const named = [image.name, image.version].filter((part): part is string => typeof part === 'string' && part.length > 0).join(':');
  return named || image.id || 'unknown';
}

/** The MIG device to use: named outright, or found by the slot's GPU instance id on the card. */
async function migUuidOf(payload: ProvisionPayload, gpuUuid: string, driver: GpuDriver): Promise<string | null> {
  const named = payload.mig_uuid ?? payload.slot?.mig_uuid;
  if (named) return named;
  const instanceId = payload.slot?.gpu_instance_id;
  if (instanceId === null || instanceId === undefined) return null;
  const gpu = (await driver.discover()).find((candidate) => candidate.uuid === gpuUuid);
  const instance = gpu?.instances.find((candidate) => candidate.gpuInstanceId === instanceId);
  if (!instance) throw new DriverError('device_not_found', `No MIG GPU instance ${instanceId} on GPU ${gpuUuid}`);
  return instance.migUuid;
}

const releasePayload = z.object({ reason: z.string().optional() }).passthrough();

function payloadOf<Schema extends z.ZodType>(schema: Schema, payload: unknown, kind: string): z.infer<Schema> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    throw new DriverError('invalid_payload', `${kind} payload: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`).join('; ')}`);
  }
  return parsed.data;
}

function allocationOf(kind: string, allocationId: string | null): string {
  if (!allocationId) throw new DriverError('invalid_payload', `a ${kind} task names no allocation`);
  return allocationId;
}

const provision: TaskHandler = async (task, { driver, signal }) => {
  const payload = payloadOf(provisionPayload, task.payload, 'provision');
  const gpuUuid = (payload.gpu_uuid ?? payload.slot?.gpu_uuid)!;
  const result = await driver.provision(
    {
      allocationId: allocationOf('provision', task.allocation_id),
      gpuUuid,
      migUuid: await migUuidOf(payload, gpuUuid, driver),
      sliceProfile: (payload.slice_profile ?? payload.slot?.profile)!,
      osImage: osImageName(payload.os_image),
      sshPublicKeys: payload.ssh_public_keys.map((key) => (typeof key === 'string' ? key : key.public_key)),
    },
    signal,
  );
  // The contract's shape, plus `ssh_access` as the allocation area reads it.
  return {
    ssh_host: result.sshHost,
    ssh_port: result.sshPort,
    ssh_user: result.sshUser,
    ssh_access: { host: result.sshHost, port: result.sshPort, username: result.sshUser },
  };
};

const release: TaskHandler = async (task, { driver, signal }) => {
  const payload = payloadOf(releasePayload, task.payload ?? {}, 'release');
  await driver.release({ allocationId: allocationOf('release', task.allocation_id), reason: payload.reason }, signal);
  return {};
};

const discoverSliceTopology: TaskHandler = async (_task, { driver }) => ({ gpus: (await driver.discover()).map(topologyGpu) });

/** A discovered GPU in the contract's discover_slice_topology result shape. */
export function topologyGpu(gpu: DiscoveredGpu) {
  return {
    uuid: gpu.uuid,
    index: gpu.index,
    name: gpu.name,
    memory_bytes: gpu.memoryBytes,
    mig_mode: gpu.migMode,
    instances: gpu.instances.map((instance) => ({
      profile: instance.profile,
      placement: { start: instance.placement.start, size: instance.placement.size },
      gpu_instance_id: instance.gpuInstanceId,
      compute_instance_id: instance.computeInstanceId,
      mig_uuid: instance.migUuid,
    })),
  };
}

export function registerBuiltinHandlers(registry: TaskHandlerRegistry): TaskHandlerRegistry {
  return registry.register('provision', provision).register('release', release).register('discover_slice_topology', discoverSliceTopology);
}

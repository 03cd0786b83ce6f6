/** The drivers an agent can run: `simulated` for development and tests, `nvidia` on real GPU hosts. */
export const driverKinds = ['simulated', 'nvidia'] as const;
export type DriverKind = (typeof driverKinds)[number];

export type MigMode = 'enabled' | 'disabled';

/** One MIG GPU instance (with its compute instance) as the contract's discover_slice_topology result names it. */
export interface MigInstance {
  /** Profile name without the `MIG ` prefix, e.g. `1g.10gb`. */
  readonly profile: string;
  /** Memory-slice placement on the card. */
  readonly placement: { readonly start: number; readonly size: number };
  readonly gpuInstanceId: number;
  readonly computeInstanceId: number;
  readonly migUuid: string;
}

/** One physical GPU found on the host. */
export interface DiscoveredGpu {
  /** NVIDIA UUID (`GPU-…`), stable across reboots. */
  readonly uuid: string;
  /** The GPU's index on the node (nvidia-smi order). */
  readonly index: number;
  /** The driver's product name, e.g. `NVIDIA H100 80GB HBM3`. */
  readonly name: string;
  readonly memoryBytes: number;
  readonly migMode: MigMode;
  /** MIG instances; empty for a card with MIG disabled (the card is one whole slot). */
  readonly instances: readonly MigInstance[];
}

export interface ProvisionRequest {
  readonly allocationId: string;
  readonly gpuUuid: string;
  /** Null for a whole card. */
  readonly migUuid: string | null;
  readonly sliceProfile: string;
  readonly osImage: string;
  readonly sshPublicKeys: readonly string[];
}

export interface ProvisionResult {
  readonly sshHost: string;
  readonly sshPort: number;
  readonly sshUser: string;
}

export interface ReleaseRequest {
  readonly allocationId: string;
  readonly reason?: string;
}

/** One telemetry reading of a card or a slice; the agent adds the allocation that holds the device. */
export interface DeviceSample {
  readonly gpuUuid: string;
  /** Null for a whole card. */
  readonly migUuid: string | null;
  readonly sampledAt: Date;
  readonly gpuUtilizationPercent: number;
  readonly memoryUsedBytes: number;
  readonly memoryTotalBytes: number;
  /** The card's temperature (a slice reports its card's); null when the driver does not report it. */
  readonly temperatureCelsius: number | null;
  readonly powerWatts: number | null;
}

/** A device the driver runs an allocation on. */
export interface RunningAllocation {
  readonly allocationId: string;
  readonly gpuUuid: string;
  readonly migUuid: string | null;
}

/**
 * What the agent's task loop asks of the host. Every method is idempotent: a task may be offered again after its
 * lease expires (the agent died or was slow), so provisioning an allocation twice answers the first result and
 * releasing an unknown allocation succeeds.
 */
export interface GpuDriver {
  readonly kind: DriverKind;
  discover(): Promise<DiscoveredGpu[]>;
  provision(request: ProvisionRequest, signal?: AbortSignal): Promise<ProvisionResult>;
  release(request: ReleaseRequest, signal?: AbortSignal): Promise<void>;
  running(): Promise<RunningAllocation[]>;
  sample(): Promise<DeviceSample[]>;
}

/** A driver failure that becomes a task's `{code, message}` error (code: `^[a-z][a-z0-9_]{0,63}$`). */
export class DriverError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

/** The drivers an agent can run: `simulated` for development and tests, `nvidia` on real GPU hosts. */
export const driverKinds = ['simulated', 'nvidia'] as const;
export type DriverKind = (typeof driverKinds)[number];

/** One GPU (or MIG-capable card) found on the host. */
export interface DiscoveredGpu {
  /** Stable per host, e.g. the PCI bus id or the GPU UUID. */
  readonly deviceId: string;
  readonly model: string;
  readonly memoryMib: number;
  /** Slice profiles this card can be partitioned into, by profile name (e.g. `1g.10gb`); empty when whole-card only. */
  readonly sliceProfiles: readonly string[];
}

export interface NodeInventory {
  readonly hostname: string;
  readonly gpus: readonly DiscoveredGpu[];
}

export interface ProvisionRequest {
  readonly allocationId: string;
  readonly deviceId: string;
  /** Absent for a whole card. */
  readonly sliceProfile?: string;
  readonly osImage: string;
  readonly sshPublicKeys: readonly string[];
}

export interface ProvisionResult {
  /** Where the guest is reachable by SSH. */
  readonly sshHost: string;
  readonly sshPort: number;
}

export interface ReleaseRequest {
  readonly allocationId: string;
}

/**
 * What the agent's task loop asks of the host. Implementations arrive with the registration and task-loop issue;
 * every method must be idempotent because a task may be re-delivered after a lease expires.
 */
export interface GpuDriver {
  readonly kind: DriverKind;
  discover(): Promise<NodeInventory>;
  provision(request: ProvisionRequest): Promise<ProvisionResult>;
  release(request: ReleaseRequest): Promise<void>;
}

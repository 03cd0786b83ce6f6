/** An allocation's states as stored; the live ones hold their slot (allocations_slot_live_key). */
export const allocationStates = ['requested', 'provisioning', 'active', 'releasing', 'released', 'failed', 'lost'] as const;
export type AllocationStateName = (typeof allocationStates)[number];
export const LIVE_STATES: readonly AllocationStateName[] = ['requested', 'provisioning', 'active', 'releasing'];
export const FINAL_STATES: readonly AllocationStateName[] = ['released', 'failed', 'lost'];

/** The allocation row as the lifecycle code needs it. */
export interface AllocationRecord {
  readonly id: string;
  readonly projectId: string;
  readonly userId: string;
  readonly name: string | null;
  readonly profileId: string;
  readonly regionId: string;
  readonly regionCode: string;
  readonly osImageId: string;
  readonly sshKeyIds: readonly string[];
  readonly nodeId: string | null;
  readonly slotId: string | null;
  readonly state: AllocationStateName;
  readonly stateReason: string | null;
  /** int64 minor units, as text. */
  readonly hourlyAmountMinor: string;
  readonly currency: string;
  readonly requestedAt: Date;
  readonly provisioningAt: Date | null;
  readonly activeAt: Date | null;
  readonly releasingAt: Date | null;
  readonly releasedAt: Date | null;
  readonly failedAt: Date | null;
  readonly lostAt: Date | null;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface AllocationPlacementView {
  readonly nodeId: string;
  readonly hostname: string;
  readonly nodeState: string;
  readonly gpuUuid: string;
  readonly gpuIndex: number;
  readonly gpuMemoryBytes: string;
  readonly migMode: string;
  readonly slotId: string;
  readonly placementStart: number;
  readonly placementSize: number;
  readonly migUuid: string | null;
}

/** The allocation with what its readers show beside it (profile, model, region, placement, OS image). */
export interface AllocationView extends AllocationRecord {
  readonly profile: { readonly id: string; readonly name: string; readonly memoryBytes: string; readonly computeSevenths: number };
  readonly gpuModel: { readonly id: string; readonly code: string; readonly name: string };
  readonly region: { readonly id: string; readonly code: string; readonly name: string };
  readonly placement: AllocationPlacementView | null;
  readonly osImage: { readonly id: string; readonly name: string; readonly version: string };
  /** How to reach the guest, as the agent reported it; only while active. */
  readonly sshAccess: SshAccess | null;
  /** Sort key of listings: created_at in epoch microseconds, as text. */
  readonly cursorTs: string;
}

/** When a final state was reached (the contract's `released_at`). */
export function finalAt(record: AllocationRecord): Date | null {
  return record.releasedAt ?? record.failedAt ?? record.lostAt;
}

export interface SshAccess {
  readonly host: string;
  readonly port: number;
  readonly username: string;
}

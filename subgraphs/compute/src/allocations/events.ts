import type pg from 'pg';
import { createEnvelope, type Subject } from '@gpuaas/events';
import { writeOutbox } from '@gpuaas/outbox';
import type {
  ProvisioningActivePayload,
  ProvisioningFailedPayload,
  ProvisioningForceReleaseRequestedPayload,
  ProvisioningReleaseFailedPayload,
  ProvisioningReleasingCompletedPayload,
  ProvisioningReleasingRequestedPayload,
  ProvisioningRequestedPayload,
} from '@gpuaas/contracts';
import type { AllocationRecord } from './model.js';

/** Who asked for a release (the AsyncAPI's AllocationActor). */
export interface AllocationActor {
  readonly kind: 'user' | 'admin' | 'billing' | 'system';
  readonly id: string | null;
}

export interface EventError {
  readonly code: string;
  readonly message: string;
}

function base(record: AllocationRecord) {
  return {
    allocation_id: record.id,
    project_id: record.projectId,
    user_id: record.userId,
    profile_id: record.profileId,
    region: record.regionCode,
    node_id: record.nodeId,
    slot_id: record.slotId,
    hourly_price: { amount_minor: Number(record.hourlyAmountMinor), currency: record.currency },
  };
}

const iso = (at: Date) => at.toISOString();
const isoOrNull = (at: Date | null) => (at ? at.toISOString() : null);

export const allocationEvents = {
  requested: (r: AllocationRecord): ProvisioningRequestedPayload => ({ ...base(r), requested_at: iso(r.requestedAt) }),
  active: (r: AllocationRecord): ProvisioningActivePayload => ({
    ...base(r),
    node_id: r.nodeId!,
    requested_at: iso(r.requestedAt),
    active_at: iso(r.activeAt!),
  }),
  failed: (r: AllocationRecord, error: EventError): ProvisioningFailedPayload => ({
    ...base(r),
    requested_at: iso(r.requestedAt),
    failed_at: iso(r.failedAt!),
    error: boundedError(error),
  }),
  releasingRequested: (r: AllocationRecord, requestedBy: AllocationActor, reasonCode: string): ProvisioningReleasingRequestedPayload => ({
    ...base(r),
    requested_at: iso(r.requestedAt),
    active_at: isoOrNull(r.activeAt),
    requested_by: requestedBy,
    reason_code: reasonCode,
  }),
  releasingCompleted: (r: AllocationRecord): ProvisioningReleasingCompletedPayload => ({
    ...base(r),
    requested_at: iso(r.requestedAt),
    active_at: isoOrNull(r.activeAt),
    released_at: iso(r.releasedAt!),
    reason_code: r.stateReason ?? 'user_release',
  }),
  releaseFailed: (r: AllocationRecord, failedAt: Date, error: EventError): ProvisioningReleaseFailedPayload => ({
    ...base(r),
    node_id: r.nodeId!,
    requested_at: iso(r.requestedAt),
    active_at: isoOrNull(r.activeAt),
    failed_at: iso(failedAt),
    error: boundedError(error),
  }),
  forceReleaseRequested: (
    r: AllocationRecord,
    requestedBy: { kind: 'admin' | 'billing' | 'system'; id: string | null },
    reasonCode: string,
    reason: string,
  ): ProvisioningForceReleaseRequestedPayload => ({ ...base(r), requested_by: requestedBy, reason_code: reasonCode, reason: reason.slice(0, 500) }),
};

function boundedError(error: EventError): EventError {
  const code = /^[a-z][a-z0-9_]*$/.test(error.code) && error.code.length <= 64 ? error.code : 'provisioning_failed';
  return { code, message: error.message.slice(0, 2000) };
}

/** Writes the event to the outbox in the caller's transaction (the relay publishes it after commit). */
export async function emitAllocationEvent(client: pg.PoolClient, subject: Subject, payload: unknown, correlationId?: string): Promise<string> {
  const envelope = createEnvelope(subject, payload, correlationId === undefined ? {} : { correlationId });
  await writeOutbox(client, envelope);
  return envelope.event_id;
}

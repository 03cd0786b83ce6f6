import type pg from 'pg';
import { prepared, withTransaction } from '@gpuaas/db';
import { processOnce, subjects, type EventEnvelope } from '@gpuaas/events';
import type { Logger } from '@gpuaas/telemetry';
import { queueNodeTask, wakeNode, type WakeDeps } from '../nodes/tasks.js';
import { allocationEvents, emitAllocationEvent } from './events.js';
import type { AllocationRecord } from './model.js';
import { lockAllocation } from './repository.js';
import { moveAllocation } from './transitions.js';
import { isUuid } from './validation.js';

/** What the provisioning use cases run on (ComputeDeps fits; the workers build it from their own connections). */
export interface ProvisioningDeps extends WakeDeps {
  readonly pool: pg.Pool;
  readonly logger: Logger;
}

export const PROVISIONING_CONSUMER = 'provisioning-worker';

/** The subjects the provisioning-worker consumes. */
export const provisioningSubjects = [
  subjects.provisioningRequested,
  subjects.provisioningReleasingRequested,
  subjects.provisioningForceReleaseRequested,
] as const;

export type ProvisioningResult = 'done' | 'duplicate' | 'ignored' | 'malformed';

/**
 * Handles one provisioning event exactly once per event id (processOnce in the same transaction as the change),
 * and every change is also guarded by the allocation's state under its row lock, so a replay — or a second event
 * for an allocation that already moved on — changes nothing. Wakes the node after COMMIT.
 */
export async function handleProvisioningEvent(deps: ProvisioningDeps, envelope: EventEnvelope): Promise<ProvisioningResult> {
  const payload = envelope.payload as { allocation_id?: unknown };
  // Retrying cannot fix a payload without a valid allocation id: the worker dead-letters it at once.
  if (typeof payload.allocation_id !== 'string' || !isUuid(payload.allocation_id)) return 'malformed';
  const allocationId = payload.allocation_id;
  const wake: string[] = [];
  const outcome = await withTransaction(deps.pool, async (client) => {
    const once = await processOnce(client, PROVISIONING_CONSUMER, envelope.event_id, async () => {
      const record = await lockAllocation(client, allocationId);
      if (!record) return 'ignored' as const;
      switch (envelope.event_type) {
        case subjects.provisioningRequested:
          return queueProvision(client, record, envelope.correlation_id, wake);
        case subjects.provisioningReleasingRequested:
          return queueRelease(client, record, envelope.correlation_id, wake);
        case subjects.provisioningForceReleaseRequested:
          return forceRelease(client, record, envelope);
        default:
          return 'ignored' as const;
      }
    });
    return once.duplicate ? ('duplicate' as const) : once.result;
  });
  for (const nodeId of wake) wakeNode(deps, nodeId);
  return outcome;
}

async function queueProvision(client: pg.PoolClient, record: AllocationRecord, correlationId: string, wake: string[]): Promise<ProvisioningResult> {
  // Anything past requested (already provisioning, or released before the worker came) is not provisioned again.
  if (record.state !== 'requested' || !record.nodeId || !record.slotId) return 'ignored';
  const moved = await moveAllocation(client, record, 'provisioning', { correlationId });
  await queueNodeTask(client, {
    nodeId: record.nodeId,
    kind: 'provision',
    allocationId: record.id,
    payload: await provisionPayload(client, moved),
  });
  wake.push(record.nodeId);
  return 'done';
}

async function queueRelease(client: pg.PoolClient, record: AllocationRecord, correlationId: string, wake: string[]): Promise<ProvisioningResult> {
  if (record.state !== 'releasing') return 'ignored';
  // Never handed to the node (released while still requested): nothing to tear down there.
  if (record.provisioningAt === null || !record.nodeId) {
    const released = await moveAllocation(client, record, 'released', { correlationId });
    await emitAllocationEvent(client, subjects.provisioningReleasingCompleted, allocationEvents.releasingCompleted(released), correlationId);
    return 'done';
  }
  await queueNodeTask(client, {
    nodeId: record.nodeId,
    kind: 'release',
    allocationId: record.id,
    payload: { allocation_id: record.id, reason: record.stateReason ?? 'user_release', slot: await slotOf(client, record.slotId!) },
  });
  wake.push(record.nodeId);
  return 'done';
}

async function forceRelease(client: pg.PoolClient, record: AllocationRecord, envelope: EventEnvelope): Promise<ProvisioningResult> {
  if (!['requested', 'provisioning', 'active'].includes(record.state)) return 'ignored';
  const payload = envelope.payload as { requested_by?: { kind?: string; id?: string | null }; reason_code?: string };
  const kind = payload.requested_by?.kind;
  const requestedBy = { kind: kind === 'admin' || kind === 'billing' ? kind : 'system', id: payload.requested_by?.id ?? null } as const;
  const reasonCode = typeof payload.reason_code === 'string' && /^[a-z][a-z_]*$/.test(payload.reason_code) ? payload.reason_code : 'force_release';
  const moved = await moveAllocation(client, record, 'releasing', { reason: reasonCode, correlationId: envelope.correlation_id });
  await emitAllocationEvent(
    client,
    subjects.provisioningReleasingRequested,
    allocationEvents.releasingRequested(moved, requestedBy, reasonCode),
    envelope.correlation_id,
  );
  return 'done';
}

interface SlotRow {
  slot_id: string;
  gpu_uuid: string;
  gpu_instance_id: number | null;
  compute_instance_id: number | null;
  mig_uuid: string | null;
  profile: string;
}

async function slotOf(client: pg.PoolClient, slotId: string) {
  const { rows } = await client.query<SlotRow>(prepared(
    `SELECT s.id AS slot_id, ng.gpu_uuid, s.gpu_instance_id, s.compute_instance_id, s.mig_uuid, p.name AS profile
       FROM compute.slots s JOIN compute.node_gpus ng ON ng.id = s.node_gpu_id JOIN compute.slice_profiles p ON p.id = s.profile_id
      WHERE s.id = $1`,
    [slotId],
  ));
  return placedSlot(rows[0]!);
}

/** The slot as the agent's task payload names it. */
function placedSlot(row: SlotRow) {
  return {
    slot_id: row.slot_id,
    gpu_uuid: row.gpu_uuid,
    gpu_instance_id: row.gpu_instance_id,
    compute_instance_id: row.compute_instance_id,
    mig_uuid: row.mig_uuid,
    profile: row.profile,
  };
}

interface PayloadRow extends SlotRow {
  image_name: string | null;
  image_version: string | null;
  keys: Array<{ id: string; public_key: string }>;
}

/**
 * What the agent needs to bring the guest up, in the contract's shape (AgentTask.payload for provision:
 * `{gpu_uuid, mig_uuid, slice_profile, os_image, ssh_public_keys}` as strings) plus the placed slot, the image's id
 * and the keys' ids for the agent's logs. One statement: slot, image (platform's read function) and keys (access's).
 */
async function provisionPayload(client: pg.PoolClient, record: AllocationRecord) {
  const { rows } = await client.query<PayloadRow>(prepared(
    `SELECT s.id AS slot_id, ng.gpu_uuid, s.gpu_instance_id, s.compute_instance_id, s.mig_uuid, p.name AS profile,
            img.name AS image_name, img.version AS image_version,
            CASE WHEN cardinality($4::uuid[]) = 0 THEN '[]'::json
                 ELSE COALESCE((SELECT json_agg(json_build_object('id', k.id, 'public_key', k.public_key))
                                  FROM access.ssh_public_keys_of($3, $4::uuid[]) k), '[]'::json) END AS keys
       FROM compute.slots s JOIN compute.node_gpus ng ON ng.id = s.node_gpu_id JOIN compute.slice_profiles p ON p.id = s.profile_id
       LEFT JOIN LATERAL platform.os_image_of($2) img ON true
      WHERE s.id = $1`,
    [record.slotId, record.osImageId, record.userId, record.sshKeyIds],
  ));
  const row = rows[0]!;
  const slot = placedSlot(row);
  return {
    allocation_id: record.id,
    gpu_uuid: slot.gpu_uuid,
    mig_uuid: slot.mig_uuid,
    slice_profile: slot.profile,
    os_image: row.image_name !== null ? `${row.image_name}:${row.image_version}` : record.osImageId,
    os_image_id: record.osImageId,
    ssh_public_keys: row.keys.map((key) => key.public_key),
    ssh_key_ids: row.keys.map((key) => key.id),
    slot,
  };
}

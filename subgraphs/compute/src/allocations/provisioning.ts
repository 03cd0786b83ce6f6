import type pg from 'pg';
import { prepared, uuidv7, withTransaction } from '@gpuaas/db';
import { processOnce, subjects, type EventEnvelope } from '@gpuaas/events';
import type { Logger } from '@gpuaas/telemetry';
import { wakeNode, type WakeDeps } from '../nodes/tasks.js';
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
 * Handles one provisioning event exactly once per event id (the processed-event marker commits with the change),
 * and every change is also guarded by the allocation's state under its row lock, so a replay — or a second event
 * for an allocation that already moved on — changes nothing. The usual cases (a request to provision, the release
 * of a provisioned allocation) are one statement each and wake the node after it; the rest run in a transaction.
 */
export async function handleProvisioningEvent(deps: ProvisioningDeps, envelope: EventEnvelope): Promise<ProvisioningResult> {
  const payload = envelope.payload as { allocation_id?: unknown };
  // Retrying cannot fix a payload without a valid allocation id: the worker dead-letters it at once.
  if (typeof payload.allocation_id !== 'string' || !isUuid(payload.allocation_id)) return 'malformed';
  const allocationId = payload.allocation_id;
  if (envelope.event_type === subjects.provisioningRequested) return startProvisioning(deps, envelope, allocationId);
  if (envelope.event_type === subjects.provisioningReleasingRequested) {
    const queued = await queueProvisionedRelease(deps, envelope, allocationId);
    if (queued !== undefined) return queued;
  }
  return withTransaction(deps.pool, async (client) => {
    const once = await processOnce(client, PROVISIONING_CONSUMER, envelope.event_id, async () => {
      const record = await lockAllocation(client, allocationId);
      if (!record) return 'ignored' as const;
      switch (envelope.event_type) {
        case subjects.provisioningReleasingRequested:
          return releaseUnprovisioned(client, record, envelope.correlation_id);
        case subjects.provisioningForceReleaseRequested:
          return forceRelease(client, record, envelope);
        default:
          return 'ignored' as const;
      }
    });
    return once.duplicate ? ('duplicate' as const) : once.result;
  });
}

/**
 * releasing.requested that queueProvisionedRelease did not take: an allocation never handed to the node (released
 * while still requested) has nothing to tear down there and is released at once; anything else is not releasing.
 */
async function releaseUnprovisioned(client: pg.PoolClient, record: AllocationRecord, correlationId: string): Promise<ProvisioningResult> {
  if (record.state !== 'releasing' || (record.provisioningAt !== null && record.nodeId)) return 'ignored';
  const released = await moveAllocation(client, record, 'released', { correlationId });
  await emitAllocationEvent(client, subjects.provisioningReleasingCompleted, allocationEvents.releasingCompleted(released), correlationId);
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

/** The placed slot as task payloads name it, from the joins placedSlotOf makes. */
const PLACED_SLOT_JSON = `jsonb_build_object('slot_id', s.id, 'gpu_uuid', ng.gpu_uuid, 'gpu_instance_id', s.gpu_instance_id,
    'compute_instance_id', s.compute_instance_id, 'mig_uuid', s.mig_uuid, 'profile', p.name)`;

/** FROM `allocation` (a CTE with slot_id) joined to its slot (s), the slot's card (ng) and profile (p). */
const placedSlotOf = (allocation: string) => `FROM ${allocation}
      JOIN compute.slots s ON s.id = ${allocation}.slot_id
      JOIN compute.node_gpus ng ON ng.id = s.node_gpu_id
      JOIN compute.slice_profiles p ON p.id = s.profile_id`;

/**
 * provisioning.requested in one statement (no BEGIN/COMMIT round trips): the processed-event marker, the move
 * requested → provisioning (guarded by the state; the UPDATE holds the row lock), its transition row, and the
 * provision task, whose payload is the contract's AgentTask.payload for provision
 * (`{gpu_uuid, mig_uuid, slice_profile, os_image, ssh_public_keys}`) plus the placed slot, the image's id and the
 * keys' ids for the agent's logs, built from the slot, the image (platform's read function) and the keys (access's).
 * A redelivery finds the marker and changes nothing; an allocation no longer requested (released before the worker
 * came) only gets the marker. Wakes the node after the statement commits.
 */
const START_PROVISIONING = `
  WITH marker AS (
    INSERT INTO infra.processed_events (consumer, event_id, processed_at) VALUES ($1, $2, now())
    ON CONFLICT (consumer, event_id) DO NOTHING
    RETURNING event_id
  ), moved AS (
    UPDATE compute.allocations a
       SET state = 'provisioning', version = a.version + 1, updated_at = now(), provisioning_at = now()
     WHERE a.id = $3 AND a.state = 'requested' AND a.node_id IS NOT NULL AND a.slot_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM marker)
    RETURNING a.id, a.node_id, a.slot_id, a.user_id, a.os_image_id, a.ssh_key_ids, a.state_reason
  ), noted AS (
    INSERT INTO compute.allocation_transitions (id, allocation_id, from_state, to_state, reason, correlation_id)
    SELECT $4, moved.id, 'requested', 'provisioning', moved.state_reason, $5 FROM moved
  ), task AS (
    INSERT INTO compute.node_tasks (id, node_id, kind, allocation_id, payload)
    SELECT $6, moved.node_id, 'provision', moved.id, jsonb_build_object(
             'allocation_id', moved.id,
             'gpu_uuid', ng.gpu_uuid,
             'mig_uuid', s.mig_uuid,
             'slice_profile', p.name,
             'os_image', COALESCE(img.name || ':' || img.version, moved.os_image_id::text),
             'os_image_id', moved.os_image_id,
             'ssh_public_keys', keys.public_keys,
             'ssh_key_ids', keys.ids,
             'slot', ${PLACED_SLOT_JSON})
      ${placedSlotOf('moved')}
      LEFT JOIN LATERAL platform.os_image_of(moved.os_image_id) img ON true
      CROSS JOIN LATERAL (
        SELECT COALESCE(jsonb_agg(k.public_key), '[]'::jsonb) AS public_keys, COALESCE(jsonb_agg(k.id), '[]'::jsonb) AS ids
          FROM access.ssh_public_keys_of(moved.user_id, moved.ssh_key_ids) k
         WHERE cardinality(moved.ssh_key_ids) > 0
      ) keys
    ON CONFLICT (allocation_id, kind) WHERE allocation_id IS NOT NULL AND state IN ('queued', 'leased') DO NOTHING
  )
  SELECT EXISTS (SELECT 1 FROM marker) AS fresh, (SELECT node_id FROM moved) AS node_id`;

async function startProvisioning(deps: ProvisioningDeps, envelope: EventEnvelope, allocationId: string): Promise<ProvisioningResult> {
  const { rows } = await deps.pool.query<{ fresh: boolean; node_id: string | null }>(
    prepared(START_PROVISIONING, [PROVISIONING_CONSUMER, envelope.event_id, allocationId, uuidv7(), envelope.correlation_id, uuidv7()]),
  );
  const { fresh, node_id: nodeId } = rows[0]!;
  if (!fresh) return 'duplicate';
  if (!nodeId) return 'ignored';
  wakeNode(deps, nodeId);
  return 'done';
}

/**
 * releasing.requested for an allocation the node has (the usual case) in one statement: the marker and the release
 * task (payload `{allocation_id, reason, slot}`), under the allocation's row lock. Undefined when it does not apply
 * (never provisioned, not releasing, or already seen): handleProvisioningEvent's transaction then decides.
 */
const QUEUE_PROVISIONED_RELEASE = `
  WITH target AS (
    SELECT a.id, a.node_id, a.slot_id, a.state_reason FROM compute.allocations a
     WHERE a.id = $3 AND a.state = 'releasing' AND a.provisioning_at IS NOT NULL AND a.node_id IS NOT NULL AND a.slot_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM infra.processed_events e WHERE e.consumer = $1 AND e.event_id = $2)
       FOR UPDATE
  ), marker AS (
    INSERT INTO infra.processed_events (consumer, event_id, processed_at) SELECT $1, $2, now() FROM target
    ON CONFLICT (consumer, event_id) DO NOTHING
    RETURNING event_id
  ), task AS (
    INSERT INTO compute.node_tasks (id, node_id, kind, allocation_id, payload)
    SELECT $4, target.node_id, 'release', target.id, jsonb_build_object(
             'allocation_id', target.id,
             'reason', COALESCE(target.state_reason, 'user_release'),
             'slot', ${PLACED_SLOT_JSON})
      ${placedSlotOf('target')}
     WHERE EXISTS (SELECT 1 FROM marker)
    ON CONFLICT (allocation_id, kind) WHERE allocation_id IS NOT NULL AND state IN ('queued', 'leased') DO NOTHING
  )
  SELECT (SELECT node_id FROM target) AS node_id, EXISTS (SELECT 1 FROM marker) AS fresh`;

async function queueProvisionedRelease(deps: ProvisioningDeps, envelope: EventEnvelope, allocationId: string): Promise<ProvisioningResult | undefined> {
  const { rows } = await deps.pool.query<{ node_id: string | null; fresh: boolean }>(
    prepared(QUEUE_PROVISIONED_RELEASE, [PROVISIONING_CONSUMER, envelope.event_id, allocationId, uuidv7()]),
  );
  const { node_id: nodeId, fresh } = rows[0]!;
  if (!nodeId) return undefined;
  // Locked, but a concurrent redelivery recorded the marker first: that one queued the task.
  if (!fresh) return 'duplicate';
  wakeNode(deps, nodeId);
  return 'done';
}


import type { AllocationRecord, AllocationStateName, AllocationView, SshAccess } from './model.js';

/** Columns of compute.allocations (aliased `a`) plus the region code, as read by every allocation query. */
export const RECORD_COLUMNS = `a.id, a.project_id, a.user_id, a.name, a.profile_id, a.region_id, r.code AS region_code, a.os_image_id,
  a.ssh_key_ids, a.node_id, a.slot_id, a.state, a.state_reason, a.hourly_amount_minor::text AS hourly_amount_minor, a.currency,
  a.requested_at, a.provisioning_at, a.active_at, a.releasing_at, a.released_at, a.failed_at, a.lost_at, a.version,
  a.created_at, a.updated_at`;

export interface RecordRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  profile_id: string;
  region_id: string;
  region_code: string;
  os_image_id: string;
  ssh_key_ids: string[];
  node_id: string | null;
  slot_id: string | null;
  state: AllocationStateName;
  state_reason: string | null;
  hourly_amount_minor: string;
  currency: string;
  requested_at: Date;
  provisioning_at: Date | null;
  active_at: Date | null;
  releasing_at: Date | null;
  released_at: Date | null;
  failed_at: Date | null;
  lost_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export function toRecord(row: RecordRow): AllocationRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    userId: row.user_id,
    name: row.name,
    profileId: row.profile_id,
    regionId: row.region_id,
    regionCode: row.region_code,
    osImageId: row.os_image_id,
    sshKeyIds: row.ssh_key_ids,
    nodeId: row.node_id,
    slotId: row.slot_id,
    state: row.state,
    stateReason: row.state_reason,
    hourlyAmountMinor: row.hourly_amount_minor,
    currency: row.currency.trim(),
    requestedAt: row.requested_at,
    provisioningAt: row.provisioning_at,
    activeAt: row.active_at,
    releasingAt: row.releasing_at,
    releasedAt: row.released_at,
    failedAt: row.failed_at,
    lostAt: row.lost_at,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The view query: the record plus profile, model, region, placement and the OS image (platform's read function),
 * over `allocations` (the table, or a CTE's RETURNING * of it: creation reads its new row's view in the insert).
 */
export const viewSelectFrom = (allocations: string) => `SELECT ${RECORD_COLUMNS},
  floor(extract(epoch FROM a.created_at) * 1000000)::bigint::text AS cursor_ts,
  r.name AS region_name, p.name AS profile_name, p.memory_bytes::text AS profile_memory_bytes, p.compute_sevenths,
  g.id AS gpu_model_id, g.code AS gpu_model_code, g.name AS gpu_model_name,
  n.hostname, n.state AS node_state, ng.gpu_uuid, ng.device_index, ng.memory_bytes::text AS gpu_memory_bytes, ng.mig_mode,
  s.placement_start, s.placement_size, s.mig_uuid,
  oi.name AS os_image_name, oi.version AS os_image_version,
  (SELECT t.result FROM compute.node_tasks t
    WHERE t.allocation_id = a.id AND t.kind = 'provision' AND t.state = 'succeeded'
    ORDER BY t.completed_at DESC LIMIT 1) AS provision_result
FROM ${allocations} a
JOIN compute.regions r ON r.id = a.region_id
JOIN compute.slice_profiles p ON p.id = a.profile_id
JOIN compute.gpu_models g ON g.id = p.gpu_model_id
LEFT JOIN compute.slots s ON s.id = a.slot_id
LEFT JOIN compute.nodes n ON n.id = a.node_id
LEFT JOIN compute.node_gpus ng ON ng.id = s.node_gpu_id
LEFT JOIN LATERAL platform.os_image_of(a.os_image_id) oi ON true`;

export const VIEW_SELECT = viewSelectFrom('compute.allocations');

export interface ViewRow extends RecordRow {
  cursor_ts: string;
  region_name: string;
  profile_name: string;
  profile_memory_bytes: string;
  compute_sevenths: number;
  gpu_model_id: string;
  gpu_model_code: string;
  gpu_model_name: string;
  hostname: string | null;
  node_state: string | null;
  gpu_uuid: string | null;
  device_index: number | null;
  gpu_memory_bytes: string | null;
  mig_mode: string | null;
  placement_start: number | null;
  placement_size: number | null;
  mig_uuid: string | null;
  os_image_name: string | null;
  os_image_version: string | null;
  provision_result: unknown;
}

export function toView(row: ViewRow): AllocationView {
  const record = toRecord(row);
  const placed = row.node_id !== null && row.slot_id !== null && row.hostname !== null && row.gpu_uuid !== null;
  return {
    ...record,
    cursorTs: row.cursor_ts,
    profile: { id: row.profile_id, name: row.profile_name, memoryBytes: row.profile_memory_bytes, computeSevenths: row.compute_sevenths },
    gpuModel: { id: row.gpu_model_id, code: row.gpu_model_code, name: row.gpu_model_name },
    region: { id: row.region_id, code: row.region_code, name: row.region_name },
    placement: placed
      ? {
          nodeId: row.node_id!,
          hostname: row.hostname!,
          nodeState: row.node_state!,
          gpuUuid: row.gpu_uuid!,
          gpuIndex: row.device_index!,
          gpuMemoryBytes: row.gpu_memory_bytes!,
          migMode: row.mig_mode!,
          slotId: row.slot_id!,
          placementStart: row.placement_start!,
          placementSize: row.placement_size!,
          migUuid: row.mig_uuid,
        }
      : null,
    // An image platform no longer knows still shows its id (the allocation keeps running on it).
    sshAccess: row.state === 'active' ? sshAccessFrom(row.provision_result) : null,
    osImage: { id: row.os_image_id, name: row.os_image_name ?? 'unknown', version: row.os_image_version ?? 'unknown' },
  };
}

/**
 * The agent reports how to reach the guest in its provision result: the contract's `ssh_host`/`ssh_port`/`ssh_user`,
 * or an `ssh_access` object. Anything malformed reads as unknown.
 */
function sshAccessFrom(result: unknown): SshAccess | null {
  if (typeof result !== 'object' || result === null) return null;
  const record = result as Record<string, unknown>;
  const nested = typeof record['ssh_access'] === 'object' && record['ssh_access'] !== null ? (record['ssh_access'] as Record<string, unknown>) : undefined;
  const host = nested?.['host'] ?? record['ssh_host'];
  const port = nested?.['port'] ?? record['ssh_port'];
  const username = nested?.['username'] ?? record['ssh_user'];
  if (typeof host !== 'string' || typeof username !== 'string' || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port, username };
}

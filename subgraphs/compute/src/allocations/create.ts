import type pg from 'pg';
import { AppError, Validation } from '@gpuaas/errors';
import { prepared, uuidv7, withTransaction } from '@gpuaas/db';
import { subjects } from '@gpuaas/events';
import type { ComputeDeps } from '../deps.js';
import { enforceAdmission, type AdmissionPrice } from './admission.js';
import { requireManagingRoleOf, type Actor, type ProjectRole } from './actor.js';
import { allocationEvents, emitAllocationEvent } from './events.js';
import type { AllocationView } from './model.js';
import { pickFreeSlot } from './placement.js';
import { toView, viewSelectFrom, type ViewRow } from './records.js';
import { Issues } from './validation.js';

export interface CreateAllocationCommand {
  readonly projectId: string;
  readonly name?: string | null;
  readonly profileId?: string | null;
  readonly gpuModel?: string | null;
  readonly profileName?: string | null;
  readonly region: string;
  readonly osImageId: string;
  readonly sshKeyIds: readonly string[];
  readonly volumeIds?: readonly string[] | null;
  readonly appTemplateId?: string | null;
}

/** What creation needs (ComputeDeps fits): the pool and the live-allocation limit. */
export interface CreateDeps {
  readonly pool: ComputeDeps['pool'];
  readonly config: { readonly policies: Pick<ComputeDeps['config']['policies'], 'max_live_allocations_per_user' | 'min_runway_for_new_allocation_seconds'> };
}

/** Placement retries after losing a slot to a concurrent commit; each retry reads a newer snapshot, so it converges. */
const MAX_PLACEMENT_ATTEMPTS = 20;

/**
 * Records an allocation already placed on a free slot, in one transaction: checks (role, region, profile, price,
 * OS image, SSH keys), the per-user live limit under a per-user advisory lock, the slot pick, the row in
 * `requested`, its transition and the provisioning.requested event. Nothing is held when it refuses.
 */
export async function createAllocation(deps: CreateDeps, actor: Actor, command: CreateAllocationCommand): Promise<AllocationView> {
  validateShape(command);
  return withTransaction(deps.pool, async (client) => {
    const vetted = await vetRequest(client, actor, command);
    await enforceLiveLimit(client, actor.userId, deps.config.policies.max_live_allocations_per_user, vetted.price, deps.config.policies.min_runway_for_new_allocation_seconds);
    return placeAndInsert(client, actor, command, vetted);
  });
}

export interface RequestAllocationCommand {
  readonly projectId: string;
  readonly sliceProfileId: string;
  readonly regionId: string;
  readonly osImageId?: string | null;
  readonly sshKeyIds?: readonly string[] | null;
}

/** The released GraphQL form (profile and region by id): the same creation once the region's code is known. */
export async function requestAllocation(deps: CreateDeps, actor: Actor, command: RequestAllocationCommand): Promise<AllocationView> {
  const issues = new Issues();
  issues.uuid('input.regionId', command.regionId);
  if (!command.osImageId) issues.add('input.osImageId', 'is required');
  if (issues.list.length > 0) throw Validation(issues.list);
  const { rows } = await deps.pool.query<{ code: string }>('SELECT code FROM compute.regions WHERE id = $1', [command.regionId]);
  if (!rows[0]) throw Validation([{ field: 'input.regionId', message: 'is not a region of the catalog' }]);
  return createAllocation(deps, actor, {
    projectId: command.projectId,
    profileId: command.sliceProfileId,
    region: rows[0].code,
    osImageId: command.osImageId!,
    sshKeyIds: command.sshKeyIds ?? [],
  });
}

function validateShape(command: CreateAllocationCommand): void {
  const issues = new Issues();
  issues.uuid('body.project_id', command.projectId);
  issues.uuid('body.profile_id', command.profileId);
  issues.uuid('body.os_image_id', command.osImageId);
  issues.uuid('body.app_template_id', command.appTemplateId);
  issues.name('body.name', command.name);
  command.sshKeyIds.forEach((keyId, index) => issues.uuid(`body.ssh_key_ids[${index}]`, keyId));
  if (new Set(command.sshKeyIds).size !== command.sshKeyIds.length) issues.add('body.ssh_key_ids', 'must not repeat a key');
  if (command.sshKeyIds.length > 20) issues.add('body.ssh_key_ids', 'at most 20 keys');
  const byId = Boolean(command.profileId);
  const byName = Boolean(command.gpuModel) || Boolean(command.profileName);
  if (byId === byName || (byName && !(command.gpuModel && command.profileName))) {
    issues.add('body.profile_id', 'name the profile by profile_id, or by gpu_model and profile_name (exactly one form)');
  }
  if (issues.list.length > 0) throw Validation(issues.list);
  // Volumes and app templates are the workloads domain's (not served yet): refuse rather than silently ignore them.
  if ((command.volumeIds?.length ?? 0) > 0 || command.appTemplateId) {
    throw new AppError('unprocessable', 'Volumes and app templates cannot be attached to allocations yet', { unsupported: ['volume_ids', 'app_template_id'] });
  }
}

interface VettedRow {
  role: ProjectRole | null;
  region_id: string | null;
  region_status: string | null;
  profile_id: string | null;
  sellable: boolean | null;
  amount: string | null;
  currency: string | null;
  os_image_status: string | null;
  owned_key_ids: string[];
}

/** vetRequest's read; `profile` is the SQL that finds the profile ($4, and $7 when named by model and name). */
const vetStatement = (profile: string) => `SELECT access.project_role_of($1, $2) AS role,
            -- The per-user creation lock (see enforceLiveLimit), taken here to save a round trip: the live count
            -- runs in a later statement, so its snapshot is taken after the lock is held.
            pg_advisory_xact_lock(hashtextextended('compute.allocation-quota:' || $2::text, 0)) AS quota_lock,
            r.id AS region_id, r.status AS region_status,
            p.id AS profile_id, p.sellable,
            price.amount, price.currency,
            (SELECT status FROM platform.os_image_of($5)) AS os_image_status,
            CASE WHEN cardinality($6::uuid[]) = 0 THEN '{}'::uuid[]
                 ELSE ARRAY(SELECT id FROM access.ssh_public_keys_of($2, $6::uuid[])) END AS owned_key_ids
       FROM (SELECT 1) AS one
       LEFT JOIN compute.regions r ON r.code = $3
       LEFT JOIN LATERAL (${profile}) p ON true
       LEFT JOIN LATERAL (
         SELECT hourly_amount_minor::text AS amount, currency FROM compute.prices
          WHERE profile_id = p.id AND region_id = r.id AND effective_from <= now()
          ORDER BY effective_from DESC LIMIT 1
       ) price ON true`;
const VET_BY_PROFILE_ID = vetStatement('SELECT p.id, p.sellable FROM compute.slice_profiles p WHERE p.id = $4::uuid');
const VET_BY_PROFILE_NAME = vetStatement(
  'SELECT p.id, p.sellable FROM compute.slice_profiles p JOIN compute.gpu_models g ON g.id = p.gpu_model_id WHERE g.code = $4 AND p.name = $7',
);

/**
 * Everything the request names, read in ONE statement (a round trip costs more than these index lookups) and then
 * judged in the order a caller should hear about it: project role, region, profile, price, OS image, SSH keys.
 */
async function vetRequest(client: pg.PoolClient, actor: Actor, command: CreateAllocationCommand): Promise<Priced> {
  // Two texts, one per way of naming the profile: with both in one statement (a CASE on which parameter is set)
  // Postgres re-planned it on every request, as no generic plan could use the profile's index.
  const byId = Boolean(command.profileId);
  const { rows } = await client.query<VettedRow>(prepared(
    byId ? VET_BY_PROFILE_ID : VET_BY_PROFILE_NAME,
    [command.projectId, actor.userId, command.region, byId ? command.profileId : command.gpuModel, command.osImageId, command.sshKeyIds, ...(byId ? [] : [command.profileName])],
  ));
  const row = rows[0]!;
  requireManagingRoleOf(row.role);
  if (row.region_id === null) throw Validation([{ field: 'body.region', message: 'is not a region of the catalog' }]);
  if (row.region_status !== 'active') throw new AppError('unprocessable', `Region ${command.region} is in maintenance`, { region: command.region });
  if (row.profile_id === null) throw Validation([{ field: command.profileId ? 'body.profile_id' : 'body.profile_name', message: 'is not a profile of the catalog' }]);
  if (!row.sellable) throw new AppError('unprocessable', 'The profile is not offered', { profile_id: row.profile_id });
  if (row.amount === null || row.currency === null) {
    throw new AppError('unprocessable', `The profile is not offered in ${command.region}`, { profile_id: row.profile_id, region: command.region });
  }
  if (row.os_image_status === null || row.os_image_status === 'deleted') throw Validation([{ field: 'body.os_image_id', message: 'is not an OS image of the platform' }]);
  if (row.os_image_status !== 'active') throw new AppError('unprocessable', 'The OS image is deprecated', { os_image_id: command.osImageId });
  const mine = new Set(row.owned_key_ids);
  const foreign = command.sshKeyIds.flatMap((keyId, index) => (mine.has(keyId) ? [] : [{ field: `body.ssh_key_ids[${index}]`, message: 'is not one of your SSH keys' }]));
  if (foreign.length > 0) throw Validation(foreign);
  return { regionId: row.region_id, profileId: row.profile_id, price: { hourlyAmountMinor: row.amount, currency: row.currency } };
}

/**
 * Serialises one user's creations (not other users') so two concurrent requests cannot both pass the limit or
 * spend the same runway: the live count and the admission check run under a per-user advisory lock, which
 * vetRequest took. The count statement also sets the runway setting billing.admission_of reads.
 */
async function enforceLiveLimit(client: pg.PoolClient, userId: string, limit: number, price: AdmissionPrice, minRunwaySeconds: number): Promise<void> {
  const { rows } = await client.query<{ live: number; pending_hourly: string }>(prepared(
    `SELECT count(*)::int AS live,
            COALESCE(sum(hourly_amount_minor) FILTER (WHERE currency = $2 AND state IN ('requested', 'provisioning')), 0)::text AS pending_hourly,
            set_config('gpuaas.min_runway_for_new_allocation_seconds', $3, true) AS min_runway
       FROM compute.allocations
      WHERE user_id = $1 AND state IN ('requested', 'provisioning', 'active', 'releasing')`,
    [userId, price.currency, String(minRunwaySeconds)],
  ));
  if ((rows[0]?.live ?? 0) >= limit) throw new AppError('quota_exceeded', 'Live allocation limit reached', { limit });
  await enforceAdmission(client, userId, price, BigInt(rows[0]?.pending_hourly ?? '0'), minRunwaySeconds);
}

interface Priced {
  readonly regionId: string;
  readonly profileId: string;
  readonly price: AdmissionPrice;
}

async function placeAndInsert(client: pg.PoolClient, actor: Actor, command: CreateAllocationCommand, priced: Priced): Promise<AllocationView> {
  const id = uuidv7();
  for (let attempt = 1; attempt <= MAX_PLACEMENT_ATTEMPTS; attempt++) {
    const slot = await pickFreeSlot(client, priced.profileId, priced.regionId);
    if (!slot) break;
    // A slot booked by a transaction that committed after our snapshot trips allocations_slot_live_key: DO NOTHING
    // (no savepoint round trips) answers no row, and the loop picks again from a newer snapshot.
    const { rows } = await client.query<ViewRow>(prepared(
      `WITH inserted AS (
         INSERT INTO compute.allocations
           (id, project_id, user_id, name, profile_id, region_id, os_image_id, ssh_key_ids, node_id, slot_id, state,
            hourly_amount_minor, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::uuid[], $9, $10, 'requested', $11, $12)
         ON CONFLICT (slot_id) WHERE state IN ('requested', 'provisioning', 'active', 'releasing') DO NOTHING
         RETURNING *
       ), noted AS (
         INSERT INTO compute.allocation_transitions (id, allocation_id, from_state, to_state, reason, correlation_id)
         SELECT $13, inserted.id, NULL, 'requested', NULL, $14 FROM inserted
       )
       ${viewSelectFrom('inserted')}`,
      [
        id, command.projectId, actor.userId, command.name ?? null, priced.profileId, priced.regionId, command.osImageId,
        command.sshKeyIds, slot.nodeId, slot.slotId, priced.price.hourlyAmountMinor, priced.price.currency, uuidv7(), actor.correlationId,
      ],
    ));
    if (!rows[0]) continue;
    // The 202 answers the allocation as it was requested: its view comes from the insert itself (after COMMIT the
    // provisioning-worker may already have moved it on).
    const view = toView(rows[0]);
    await emitAllocationEvent(client, subjects.provisioningRequested, allocationEvents.requested(view), actor.correlationId);
    return view;
  }
  throw new AppError('capacity_unavailable', `No free slot for the profile in ${command.region}; nothing was held`, {
    profile_id: priced.profileId,
    region: command.region,
  });
}

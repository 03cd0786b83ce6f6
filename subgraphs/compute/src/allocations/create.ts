import type pg from 'pg';
import { AppError, Validation } from '@gpuaas/errors';
import { uuidv7, withTransaction } from '@gpuaas/db';
import { subjects } from '@gpuaas/events';
import type { ComputeDeps } from '../deps.js';
import { enforceAdmission } from './admission.js';
import { requireManagingRole, type Actor } from './actor.js';
import { allocationEvents, emitAllocationEvent } from './events.js';
import type { AllocationView } from './model.js';
import { pickFreeSlot } from './placement.js';
import { RECORD_COLUMNS, toRecord, type RecordRow } from './records.js';
import { findAllocationView } from './repository.js';
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
    await requireManagingRole(client, command.projectId, actor);
    const region = await resolveRegion(client, command.region);
    const profile = await resolveProfile(client, command);
    const price = await priceInForce(client, profile.id, region.id, command.region);
    await checkOsImage(client, command.osImageId);
    await checkSshKeys(client, actor.userId, command.sshKeyIds);
    await enforceLiveLimit(client, actor.userId, deps.config.policies.max_live_allocations_per_user);
    await enforceAdmission(client, actor.userId, price, deps.config.policies.min_runway_for_new_allocation_seconds);
    const id = await placeAndInsert(client, actor, command, { regionId: region.id, profileId: profile.id, ...price });
    // Read inside the transaction: after commit the provisioning-worker may already have moved it on, and the 202
    // answers the allocation as it was requested.
    const view = await findAllocationView(client, id);
    // ci-allow canonical_error_guard: the row was inserted just above in this transaction; its absence is a bug
    if (!view) throw new Error(`allocation ${id} vanished after insert`);
    return view;
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

async function resolveRegion(client: pg.PoolClient, code: string): Promise<{ id: string }> {
  const { rows } = await client.query<{ id: string; status: string }>('SELECT id, status FROM compute.regions WHERE code = $1', [code]);
  const region = rows[0];
  if (!region) throw Validation([{ field: 'body.region', message: 'is not a region of the catalog' }]);
  if (region.status !== 'active') throw new AppError('unprocessable', `Region ${code} is in maintenance`, { region: code });
  return region;
}

async function resolveProfile(client: pg.PoolClient, command: CreateAllocationCommand): Promise<{ id: string }> {
  const { rows } = command.profileId
    ? await client.query<{ id: string; sellable: boolean }>('SELECT id, sellable FROM compute.slice_profiles WHERE id = $1', [command.profileId])
    : await client.query<{ id: string; sellable: boolean }>(
        `SELECT p.id, p.sellable FROM compute.slice_profiles p JOIN compute.gpu_models g ON g.id = p.gpu_model_id
          WHERE g.code = $1 AND p.name = $2`,
        [command.gpuModel, command.profileName],
      );
  const profile = rows[0];
  if (!profile) throw Validation([{ field: command.profileId ? 'body.profile_id' : 'body.profile_name', message: 'is not a profile of the catalog' }]);
  if (!profile.sellable) throw new AppError('unprocessable', 'The profile is not offered', { profile_id: profile.id });
  return profile;
}

async function priceInForce(client: pg.PoolClient, profileId: string, regionId: string, regionCode: string) {
  const { rows } = await client.query<{ amount: string; currency: string }>(
    `SELECT hourly_amount_minor::text AS amount, currency FROM compute.prices
      WHERE profile_id = $1 AND region_id = $2 AND effective_from <= now()
      ORDER BY effective_from DESC LIMIT 1`,
    [profileId, regionId],
  );
  const price = rows[0];
  if (!price) throw new AppError('unprocessable', `The profile is not offered in ${regionCode}`, { profile_id: profileId, region: regionCode });
  return { hourlyAmountMinor: price.amount, currency: price.currency };
}

async function checkOsImage(client: pg.PoolClient, osImageId: string): Promise<void> {
  const { rows } = await client.query<{ status: string }>('SELECT status FROM platform.os_image_of($1)', [osImageId]);
  const image = rows[0];
  if (!image || image.status === 'deleted') throw Validation([{ field: 'body.os_image_id', message: 'is not an OS image of the platform' }]);
  if (image.status !== 'active') throw new AppError('unprocessable', 'The OS image is deprecated', { os_image_id: osImageId });
}

async function checkSshKeys(client: pg.PoolClient, userId: string, keyIds: readonly string[]): Promise<void> {
  if (keyIds.length === 0) return;
  const { rows } = await client.query<{ id: string }>('SELECT id FROM access.ssh_public_keys_of($1, $2::uuid[])', [userId, keyIds]);
  const mine = new Set(rows.map((row) => row.id));
  const foreign = keyIds.flatMap((keyId, index) => (mine.has(keyId) ? [] : [{ field: `body.ssh_key_ids[${index}]`, message: 'is not one of your SSH keys' }]));
  if (foreign.length > 0) throw Validation(foreign);
}

/** Serialises one user's creations (not other users') so two concurrent requests cannot both pass the limit. */
async function enforceLiveLimit(client: pg.PoolClient, userId: string, limit: number): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('compute.allocation-quota:' || $1, 0))`, [userId]);
  const { rows } = await client.query<{ live: number }>(
    `SELECT count(*)::int AS live FROM compute.allocations
      WHERE user_id = $1 AND state IN ('requested', 'provisioning', 'active', 'releasing')`,
    [userId],
  );
  if ((rows[0]?.live ?? 0) >= limit) throw new AppError('quota_exceeded', 'Live allocation limit reached', { limit });
}

interface Priced {
  readonly regionId: string;
  readonly profileId: string;
  readonly hourlyAmountMinor: string;
  readonly currency: string;
}

async function placeAndInsert(client: pg.PoolClient, actor: Actor, command: CreateAllocationCommand, priced: Priced): Promise<string> {
  const id = uuidv7();
  for (let attempt = 1; attempt <= MAX_PLACEMENT_ATTEMPTS; attempt++) {
    const slot = await pickFreeSlot(client, priced.profileId, priced.regionId);
    if (!slot) break;
    await client.query('SAVEPOINT place_allocation');
    try {
      const { rows } = await client.query<RecordRow>(
        `WITH inserted AS (
           INSERT INTO compute.allocations
             (id, project_id, user_id, name, profile_id, region_id, os_image_id, ssh_key_ids, node_id, slot_id, state,
              hourly_amount_minor, currency)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::uuid[], $9, $10, 'requested', $11, $12)
           RETURNING *)
         SELECT ${RECORD_COLUMNS} FROM inserted a JOIN compute.regions r ON r.id = a.region_id`,
        [
          id, command.projectId, actor.userId, command.name ?? null, priced.profileId, priced.regionId, command.osImageId,
          command.sshKeyIds, slot.nodeId, slot.slotId, priced.hourlyAmountMinor, priced.currency,
        ],
      );
      await client.query('RELEASE SAVEPOINT place_allocation');
      const record = toRecord(rows[0]!);
      await client.query(
        `INSERT INTO compute.allocation_transitions (id, allocation_id, from_state, to_state, reason, correlation_id)
         VALUES ($1, $2, NULL, 'requested', NULL, $3)`,
        [uuidv7(), id, actor.correlationId],
      );
      await emitAllocationEvent(client, subjects.provisioningRequested, allocationEvents.requested(record), actor.correlationId);
      return id;
    } catch (error) {
      if (!isSlotTaken(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT place_allocation');
    }
  }
  throw new AppError('capacity_unavailable', `No free slot for the profile in ${command.region}; nothing was held`, {
    profile_id: priced.profileId,
    region: command.region,
  });
}

function isSlotTaken(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'allocations_slot_live_key';
}

import type pg from 'pg';
import { recordAudit, uuidv7, withTransaction } from '@gpuaas/db';
import { AppError, Conflict, NotFound } from '@gpuaas/errors';
import type { SubgraphContext } from '@gpuaas/service-kit';
import type { PlatformDeps } from '../context.js';
import {
  clearDefault,
  findOsImage,
  findOsImages,
  insertOsImage,
  listOsImages,
  liveAllocationCounts,
  lockDefaultFlag,
  lockOsImage,
  markOsImageDeleted,
  updateOsImage,
  type OsImageFields,
  type OsImageFilter,
  type OsImageRow,
  type OsImageStatus,
} from '../repositories/os-images.js';
import { requireAdmin, requireUser } from './caller.js';
import { checkFamily, checkImageRef, checkName, checkToolVersion, checkVersion, cursorKeyOf, parseCursorKey } from './os-image-rules.js';
import { pageRequest, toPage, type Page } from './pagination.js';
import { Issues, isUuid } from './validation.js';

const osImageNotFound = () => NotFound('OS image');

export interface OsImageListArgs extends OsImageFilter {
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
}

/** The catalog of bootable images (active and deprecated), default first; the same listing serves operators. */
export async function listImages(deps: PlatformDeps, caller: SubgraphContext, args: OsImageListArgs, audience: 'user' | 'admin'): Promise<Page<OsImageRow>> {
  if (audience === 'admin') requireAdmin(caller);
  else requireUser(caller);
  const page = pageRequest(args.first, args.after, parseCursorKey);
  if (args.family !== undefined && args.family !== null) {
    const issues = new Issues();
    checkFamily(issues, args.family);
    issues.throwIfAny();
  }
  const rows = await listOsImages(deps.pool, { family: args.family, status: args.status }, page.after, page.first + 1);
  return toPage(rows, page.first, cursorKeyOf);
}

/** A deleted or unknown image answers not_found, for users and operators alike. */
export async function getImage(deps: PlatformDeps, caller: SubgraphContext, id: string, audience: 'user' | 'admin'): Promise<OsImageRow> {
  if (audience === 'admin') requireAdmin(caller);
  else requireUser(caller);
  const image = isUuid(id) ? await findOsImage(deps.pool, id) : null;
  if (!image) throw osImageNotFound();
  return image;
}

/** Federation references (an allocation's image), batched; a deleted image resolves to null. */
export async function imagesByIds(deps: PlatformDeps, ids: readonly string[]): Promise<Map<string, OsImageRow>> {
  const rows = await findOsImages(deps.pool, ids.filter(isUuid));
  return new Map(rows.map((row) => [row.id, row]));
}

export async function liveAllocationCountsOf(deps: PlatformDeps, ids: readonly string[]): Promise<Map<string, number>> {
  return liveAllocationCounts(deps.pool, ids);
}

export interface OsImageCreate {
  readonly name: string;
  readonly version: string;
  readonly family?: string | null | undefined;
  readonly imageRef?: string | null | undefined;
  readonly cudaVersion?: string | null | undefined;
  readonly driverVersion?: string | null | undefined;
  readonly isDefault?: boolean | null | undefined;
  readonly status?: OsImageStatus | null | undefined;
}

/** Adds an image; `isDefault` moves the default flag here. Audited as os_image.create in the same transaction. */
export async function createImage(deps: PlatformDeps, caller: SubgraphContext, input: OsImageCreate): Promise<OsImageRow> {
  const adminId = requireAdmin(caller);
  const issues = new Issues();
  if (input.family === undefined || input.family === null) issues.add('body.family', 'is required');
  if (input.imageRef === undefined || input.imageRef === null) issues.add('body.image_ref', 'is required');
  const fields: OsImageFields = {
    name: input.name,
    version: input.version,
    family: input.family ?? '',
    imageRef: input.imageRef ?? '',
    cudaVersion: input.cudaVersion ?? null,
    driverVersion: input.driverVersion ?? null,
    status: input.status ?? 'active',
    isDefault: input.isDefault ?? false,
  };
  checkFields(issues, fields, input);
  issues.throwIfAny();
  if (fields.isDefault && fields.status !== 'active') throw new AppError('unprocessable', 'A deprecated OS image cannot be the default');

  return withTransaction(deps.pool, async (client) => {
    const previousDefault = fields.isDefault ? await moveDefault(client, null) : null;
    const image = await uniqueNameVersion(() => insertOsImage(client, uuidv7(), fields));
    await recordAudit(client, {
      domain: 'platform',
      actorKind: 'admin',
      actorId: adminId,
      action: 'os_image.create',
      targetType: 'os_image',
      targetId: image.id,
      correlationId: caller.correlationId,
      details: { after: auditView(image), ...(previousDefault ? { previous_default_id: previousDefault } : {}) },
    });
    return image;
  });
}

export interface OsImagePatch {
  readonly id: string;
  readonly name?: string | null;
  readonly version?: string | null;
  readonly family?: string | null;
  readonly imageRef?: string | null;
  readonly cudaVersion?: string | null;
  readonly driverVersion?: string | null;
  readonly isDefault?: boolean | null;
  readonly status?: OsImageStatus | null;
}

const REQUIRED_PATCH_FIELDS = [
  ['name', 'body.name'],
  ['version', 'body.version'],
  ['family', 'body.family'],
  ['imageRef', 'body.image_ref'],
  ['isDefault', 'body.is_default'],
  ['status', 'body.status'],
] as const;

/**
 * Edits, deprecates, reactivates or makes an image the default. Fields left out are unchanged; the default cannot
 * be deprecated or unflagged directly (another image must become the default first). Audited as os_image.update
 * with the changed fields before and after; a patch that changes nothing writes nothing.
 */
export async function updateImage(deps: PlatformDeps, caller: SubgraphContext, patch: OsImagePatch): Promise<OsImageRow> {
  const adminId = requireAdmin(caller);
  const issues = new Issues();
  for (const [key, field] of REQUIRED_PATCH_FIELDS) if (key in patch && patch[key] === null) issues.add(field, 'must not be null');
  const given = Object.keys(patch).filter((key) => key !== 'id');
  if (given.length === 0) issues.add('body', 'must change at least one field');
  issues.throwIfAny();
  if (!isUuid(patch.id)) throw osImageNotFound();

  return withTransaction(deps.pool, async (client) => {
    // Taken before the row lock, in the same order as createImage, so two default moves cannot deadlock.
    if (patch.isDefault === true) await lockDefaultFlag(client);
    const before = await lockOsImage(client, patch.id);
    if (!before) throw osImageNotFound();
    const after: OsImageFields = {
      name: patch.name ?? before.name,
      version: patch.version ?? before.version,
      family: patch.family ?? before.family,
      imageRef: patch.imageRef ?? before.imageRef,
      cudaVersion: 'cudaVersion' in patch ? (patch.cudaVersion ?? null) : before.cudaVersion,
      driverVersion: 'driverVersion' in patch ? (patch.driverVersion ?? null) : before.driverVersion,
      status: patch.status ?? before.status,
      isDefault: patch.isDefault ?? before.isDefault,
    };
    const fieldIssues = new Issues();
    checkFields(fieldIssues, after, patch);
    fieldIssues.throwIfAny();
    if (before.isDefault && !after.isDefault) throw new AppError('unprocessable', 'The default OS image cannot be unflagged; make another image the default first');
    if (after.isDefault && after.status !== 'active') {
      throw new AppError('unprocessable', before.isDefault ? 'The default OS image cannot be deprecated; make another image the default first' : 'A deprecated OS image cannot be the default');
    }

    const changed = changedFields(before, after);
    if (changed.length === 0) return before;
    const previousDefault = after.isDefault && !before.isDefault ? await moveDefault(client, before.id) : null;
    const image = await uniqueNameVersion(() => updateOsImage(client, before.id, after));
    const pickChanged = (view: Record<string, unknown>) => Object.fromEntries(changed.map((key) => [key, view[key]]));
    await recordAudit(client, {
      domain: 'platform',
      actorKind: 'admin',
      actorId: adminId,
      action: 'os_image.update',
      targetType: 'os_image',
      targetId: image.id,
      correlationId: caller.correlationId,
      details: {
        changed,
        before: pickChanged(auditView(before)),
        after: pickChanged(auditView(image)),
        ...(previousDefault ? { previous_default_id: previousDefault } : {}),
      },
    });
    return image;
  });
}

/**
 * Deletes an image nobody runs: refused (conflict) while live allocations use it — their count is in the details —
 * and for the default. The row stays as `deleted` so past allocations keep naming it. Audited as os_image.delete.
 */
export async function deleteImage(deps: PlatformDeps, caller: SubgraphContext, id: string): Promise<boolean> {
  const adminId = requireAdmin(caller);
  if (!isUuid(id)) throw osImageNotFound();
  return withTransaction(deps.pool, async (client) => {
    const image = await lockOsImage(client, id);
    if (!image) throw osImageNotFound();
    if (image.isDefault) throw Conflict('The default OS image cannot be deleted; make another image the default first');
    const live = (await liveAllocationCounts(client, [id])).get(id) ?? 0;
    if (live > 0) throw Conflict('The OS image is used by live allocations; deprecate it instead', { live_allocation_count: live });
    await markOsImageDeleted(client, id);
    await recordAudit(client, {
      domain: 'platform',
      actorKind: 'admin',
      actorId: adminId,
      action: 'os_image.delete',
      targetType: 'os_image',
      targetId: id,
      correlationId: caller.correlationId,
      details: { before: auditView(image) },
    });
    return true;
  });
}

function checkFields(issues: Issues, fields: OsImageFields, given: object): void {
  const has = (key: string) => key in given && (given as Record<string, unknown>)[key] !== undefined && (given as Record<string, unknown>)[key] !== null;
  if (has('name')) checkName(issues, fields.name);
  if (has('version')) checkVersion(issues, fields.version);
  if (has('family')) checkFamily(issues, fields.family);
  if (has('imageRef')) checkImageRef(issues, fields.imageRef);
  checkToolVersion(issues, 'body.cuda_version', fields.cudaVersion);
  checkToolVersion(issues, 'body.driver_version', fields.driverVersion);
}

/** Takes the default flag from whichever image holds it; answers that image's id. */
async function moveDefault(client: pg.ClientBase, newDefaultId: string | null): Promise<string | null> {
  await lockDefaultFlag(client);
  return clearDefault(client, newDefaultId);
}

async function uniqueNameVersion(write: () => Promise<OsImageRow>): Promise<OsImageRow> {
  try {
    return await write();
  } catch (error) {
    if ((error as { code?: string; constraint?: string }).code === '23505' && (error as { constraint?: string }).constraint === 'os_images_name_version_key') {
      throw new AppError('already_exists', 'An OS image with this name and version already exists');
    }
    throw error;
  }
}

const AUDITED = ['name', 'version', 'family', 'imageRef', 'cudaVersion', 'driverVersion', 'status', 'isDefault'] as const;

function changedFields(before: OsImageFields, after: OsImageFields): string[] {
  return AUDITED.filter((key) => before[key] !== after[key]).map(snake);
}

function auditView(image: OsImageFields): Record<string, unknown> {
  return Object.fromEntries(AUDITED.map((key) => [snake(key), image[key]]));
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

import { Unauthenticated, Validation, type FieldIssue } from '@gpuaas/errors';
import type { SubgraphContext } from '@gpuaas/service-kit';
import type { ComputeDeps } from '../deps.js';
import {
  findModels,
  findProfiles,
  listModelsWithOffers,
  listOffers,
  listRegions,
  type GpuModelRow,
  type OfferFilter,
  type OfferRow,
  type RegionRow,
  type SliceProfileRow,
} from './repository.js';

export interface ProfileView extends SliceProfileRow {
  readonly offers: readonly OfferRow[];
  readonly availableSlots: number;
}

export interface GpuModelView extends GpuModelRow {
  readonly profiles: readonly ProfileView[];
}

export interface RegionView extends RegionRow {
  readonly availableSlots: number;
}

export interface Page<T> {
  readonly items: readonly { readonly node: T; readonly cursor: string }[];
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
const CODE = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
const INT64 = /^(0|[1-9][0-9]{0,18})$/;

export interface GpuModelListArgs {
  readonly region?: string | null | undefined;
  readonly model?: string | null | undefined;
  readonly minMemory?: string | null | undefined;
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
}

/**
 * The GPU catalog: models ordered by code, each with its sellable profiles that have a price in force in a listed
 * region, and per region the live availability. Filters narrow the profiles; a model left with none is left out.
 * Three queries per page whatever its size (models, their profiles, all their offers with availability).
 */
export async function listGpuModels(deps: ComputeDeps, caller: SubgraphContext, args: GpuModelListArgs): Promise<Page<GpuModelView>> {
  requireUser(caller);
  const issues: FieldIssue[] = [];
  const page = pageRequest(issues, args.first, args.after);
  if (args.region != null && !isCode(args.region, 32)) issues.push({ field: 'query.region', message: 'must be a region code' });
  if (args.model != null && !isCode(args.model, 64)) issues.push({ field: 'query.model', message: 'must be a GPU model code' });
  if (args.minMemory != null && !(INT64.test(args.minMemory) && BigInt(args.minMemory) <= 9223372036854775807n)) {
    issues.push({ field: 'query.min_memory', message: 'must be a non-negative integer number of bytes' });
  }
  if (issues.length > 0) throw Validation(issues);

  const filter: OfferFilter = { regionCode: args.region, minMemory: args.minMemory };
  const rows = await listModelsWithOffers(deps.pool, { ...filter, modelCode: args.model }, page.afterCode, page.first + 1);
  const visible = rows.slice(0, page.first);
  const models = await withProfiles(deps, visible, filter);
  const items = models.map((node) => ({ node, cursor: encodeCursor(node.code) }));
  return { items, hasNextPage: rows.length > page.first, endCursor: items.at(-1)?.cursor ?? null };
}

export interface RegionListArgs {
  readonly status?: 'active' | 'maintenance' | null | undefined;
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
}

/** Regions that are not retired, ordered by code, with the slots they could place now. */
export async function listCatalogRegions(deps: ComputeDeps, caller: SubgraphContext, args: RegionListArgs): Promise<Page<RegionView>> {
  requireUser(caller);
  const issues: FieldIssue[] = [];
  const page = pageRequest(issues, args.first, args.after);
  if (issues.length > 0) throw Validation(issues);
  const rows = await listRegions(deps.pool, { status: args.status }, page.afterCode, page.first + 1);
  const items = rows.slice(0, page.first).map((node) => ({ node, cursor: encodeCursor(node.code) }));
  return { items, hasNextPage: rows.length > page.first, endCursor: items.at(-1)?.cursor ?? null };
}

/** Models with their offered profiles (references from other areas reach here without catalog filters). */
export async function withProfiles(deps: ComputeDeps, models: readonly GpuModelRow[], filter: OfferFilter = {}): Promise<GpuModelView[]> {
  if (models.length === 0) return [];
  const modelIds = models.map((model) => model.id);
  const [profiles, offers] = await Promise.all([findProfiles(deps.pool, { modelIds }), listOffers(deps.pool, { ...filter, modelIds })]);
  const offered = assembleProfiles(profiles, offers);
  return models.map((model) => ({ ...model, profiles: offered.filter((profile) => profile.gpuModelId === model.id) }));
}

/** Profile views by id with their offers in every listed region (an unpriced profile has none). */
export async function profilesByIds(deps: ComputeDeps, ids: readonly string[]): Promise<Map<string, ProfileView>> {
  const [profiles, offers] = await Promise.all([findProfiles(deps.pool, { ids }), listOffers(deps.pool, { profileIds: ids })]);
  const byProfile = groupOffers(offers);
  return new Map(profiles.map((profile) => [profile.id, viewOf(profile, byProfile.get(profile.id) ?? [])]));
}

export async function modelsByIds(deps: ComputeDeps, ids: readonly string[]): Promise<Map<string, GpuModelRow>> {
  return new Map((await findModels(deps.pool, ids)).map((model) => [model.id, model]));
}

export async function regionsByIds(deps: ComputeDeps, ids: readonly string[]): Promise<Map<string, RegionView>> {
  return new Map((await listRegions(deps.pool, { ids }, null, null)).map((region) => [region.id, region]));
}

function assembleProfiles(profiles: readonly SliceProfileRow[], offers: readonly OfferRow[]): ProfileView[] {
  const byProfile = groupOffers(offers);
  return profiles.filter((profile) => byProfile.has(profile.id)).map((profile) => viewOf(profile, byProfile.get(profile.id) ?? []));
}

function groupOffers(offers: readonly OfferRow[]): Map<string, OfferRow[]> {
  const byProfile = new Map<string, OfferRow[]>();
  for (const offer of offers) {
    const list = byProfile.get(offer.profileId) ?? [];
    list.push(offer);
    byProfile.set(offer.profileId, list);
  }
  return byProfile;
}

function viewOf(profile: SliceProfileRow, offers: readonly OfferRow[]): ProfileView {
  return { ...profile, offers, availableSlots: offers.reduce((sum, offer) => sum + offer.availableSlots, 0) };
}

function requireUser(caller: SubgraphContext): void {
  if (caller.identity.userId === null) throw Unauthenticated('This operation needs a signed-in user');
}

function isCode(value: string, max: number): boolean {
  return value.length >= 2 && value.length <= max && CODE.test(value);
}

/** Catalog listings are ordered by a unique code, so the cursor is that code (opaque base64url JSON to clients). */
function encodeCursor(code: string): string {
  return Buffer.from(JSON.stringify({ c: code }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string | null {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { c?: unknown };
    return typeof value.c === 'string' && value.c.length <= 64 ? value.c : null;
  } catch {
    return null;
  }
}

function pageRequest(issues: FieldIssue[], first: number | null | undefined, after: string | null | undefined): { first: number; afterCode: string | null } {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) issues.push({ field: 'query.limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
  const afterCode = after == null ? null : decodeCursor(after);
  if (after != null && afterCode === null) issues.push({ field: 'query.cursor', message: 'is not a cursor this listing issued' });
  return { first: size, afterCode };
}

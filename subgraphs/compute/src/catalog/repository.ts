import type pg from 'pg';

type Db = pg.Pool | pg.ClientBase;

export type RegionStatus = 'active' | 'maintenance' | 'retired';

export interface RegionRow {
  readonly id: string;
  readonly code: string;
  readonly name: string;
  readonly location: string;
  readonly status: RegionStatus;
}

export interface GpuModelRow {
  readonly id: string;
  readonly code: string;
  readonly name: string;
  readonly vendor: string;
  /** int64 as text (pg's bigint). */
  readonly memoryBytes: string;
  readonly migCapable: boolean;
}

export interface SliceProfileRow {
  readonly id: string;
  readonly gpuModelId: string;
  readonly name: string;
  readonly memoryBytes: string;
  readonly computeSevenths: number;
}

/** A profile's price in force in one listed region, with how many allocations of it could be placed there now. */
export interface OfferRow {
  readonly profileId: string;
  readonly region: RegionRow;
  readonly hourlyAmountMinor: string;
  readonly currency: string;
  readonly availableSlots: number;
}

export interface OfferFilter {
  readonly modelIds?: readonly string[];
  readonly profileIds?: readonly string[];
  readonly regionCode?: string | null | undefined;
  /** Bytes, int64 as text. */
  readonly minMemory?: string | null | undefined;
}

const LIVE_ALLOCATION_STATES = `('requested', 'provisioning', 'active', 'releasing')`;

/**
 * The price in force per profile and listed region (latest effective_from <= now; retired regions are not listed).
 * Prices are versioned rows, so DISTINCT ON picks the newest that has started.
 */
const CURRENT_PRICES = `current_prices AS (
  SELECT DISTINCT ON (pr.profile_id, pr.region_id) pr.profile_id, pr.region_id, pr.hourly_amount_minor, pr.currency
  FROM compute.prices pr
  WHERE pr.effective_from <= now()
  ORDER BY pr.profile_id, pr.region_id, pr.effective_from DESC
)`;

/**
 * Free capacity per profile and region in one grouped pass: slots that are enabled, on `active` nodes, and not held
 * by a live allocation (the same states as the allocations_slot_live_key guard). Regions that are not `active` place
 * nothing, so they count zero where the counts are used.
 */
const FREE_SLOTS = `free_slots AS (
  SELECT s.profile_id, n.region_id, count(*)::integer AS free
  FROM compute.slots s
  JOIN compute.nodes n ON n.id = s.node_id
  WHERE s.state = 'free' AND n.state = 'active'
    AND NOT EXISTS (SELECT 1 FROM compute.allocations a WHERE a.slot_id = s.id AND a.state IN ${LIVE_ALLOCATION_STATES})
  GROUP BY s.profile_id, n.region_id
)`;

const REGION_COLUMNS = (alias: string) =>
  `${alias}.id AS region_id, ${alias}.code AS region_code, ${alias}.name AS region_name, ${alias}.location AS region_location, ${alias}.status AS region_status`;

interface OfferSqlRow {
  profile_id: string;
  region_id: string;
  region_code: string;
  region_name: string;
  region_location: string;
  region_status: RegionStatus;
  hourly_amount_minor: string;
  currency: string;
  available_slots: number;
}

/** Offers of sellable profiles, filtered; one query whatever the number of models, profiles and regions. */
export async function listOffers(db: Db, filter: OfferFilter): Promise<OfferRow[]> {
  const params: unknown[] = [];
  const where = [`p.sellable`, `r.status <> 'retired'`];
  if (filter.modelIds) where.push(`p.gpu_model_id = ANY ($${params.push(filter.modelIds)}::uuid[])`);
  if (filter.profileIds) where.push(`p.id = ANY ($${params.push(filter.profileIds)}::uuid[])`);
  if (filter.regionCode) where.push(`r.code = $${params.push(filter.regionCode)}`);
  if (filter.minMemory) where.push(`p.memory_bytes >= $${params.push(filter.minMemory)}::bigint`);
  const { rows } = await db.query<OfferSqlRow>(
    `WITH ${CURRENT_PRICES}, ${FREE_SLOTS}
     SELECT p.id AS profile_id, ${REGION_COLUMNS('r')}, cp.hourly_amount_minor::text AS hourly_amount_minor, cp.currency,
       CASE WHEN r.status = 'active' THEN coalesce(f.free, 0) ELSE 0 END AS available_slots
     FROM compute.slice_profiles p
     JOIN current_prices cp ON cp.profile_id = p.id
     JOIN compute.regions r ON r.id = cp.region_id
     LEFT JOIN free_slots f ON f.profile_id = p.id AND f.region_id = r.id
     WHERE ${where.join(' AND ')}
     ORDER BY r.code`,
    params,
  );
  return rows.map((row) => ({
    profileId: row.profile_id,
    region: regionOf(row),
    hourlyAmountMinor: row.hourly_amount_minor,
    currency: row.currency,
    availableSlots: row.available_slots,
  }));
}

const MODEL_COLUMNS = `g.id, g.code, g.name, g.vendor, g.memory_bytes::text AS "memoryBytes", g.mig_capable AS "migCapable"`;
const PROFILE_COLUMNS = `p.id, p.gpu_model_id AS "gpuModelId", p.name, p.memory_bytes::text AS "memoryBytes", p.compute_sevenths AS "computeSevenths"`;

/**
 * One page of models ordered by code that still have a profile once the filters apply (a sellable profile with a
 * price in force in a listed region, enough memory, in the region asked for).
 */
export async function listModelsWithOffers(db: Db, filter: OfferFilter & { modelCode?: string | null | undefined }, afterCode: string | null, limit: number): Promise<GpuModelRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  const offerWhere = [`p.gpu_model_id = g.id`, `p.sellable`, `r.status <> 'retired'`];
  if (filter.modelCode) where.push(`g.code = $${params.push(filter.modelCode)}`);
  if (afterCode !== null) where.push(`g.code > $${params.push(afterCode)}`);
  if (filter.regionCode) offerWhere.push(`r.code = $${params.push(filter.regionCode)}`);
  if (filter.minMemory) offerWhere.push(`p.memory_bytes >= $${params.push(filter.minMemory)}::bigint`);
  where.push(`EXISTS (SELECT 1 FROM compute.slice_profiles p JOIN current_prices cp ON cp.profile_id = p.id
    JOIN compute.regions r ON r.id = cp.region_id WHERE ${offerWhere.join(' AND ')})`);
  const { rows } = await db.query<GpuModelRow>(
    `WITH ${CURRENT_PRICES}
     SELECT ${MODEL_COLUMNS} FROM compute.gpu_models g WHERE ${where.join(' AND ')} ORDER BY g.code LIMIT $${params.push(limit)}`,
    params,
  );
  return rows;
}

export async function findModels(db: Db, ids: readonly string[]): Promise<GpuModelRow[]> {
  const { rows } = await db.query<GpuModelRow>(`SELECT ${MODEL_COLUMNS} FROM compute.gpu_models g WHERE g.id = ANY ($1::uuid[])`, [ids]);
  return rows;
}

/** Profiles by id or by model (any of them, sellable or not: references from allocations must still resolve). */
export async function findProfiles(db: Db, by: { ids?: readonly string[]; modelIds?: readonly string[] }): Promise<SliceProfileRow[]> {
  const column = by.ids ? 'p.id' : 'p.gpu_model_id';
  const { rows } = await db.query<SliceProfileRow>(
    `SELECT ${PROFILE_COLUMNS} FROM compute.slice_profiles p WHERE ${column} = ANY ($1::uuid[]) ORDER BY p.compute_sevenths, p.name`,
    [by.ids ?? by.modelIds ?? []],
  );
  return rows;
}

interface RegionSqlRow {
  region_id: string;
  region_code: string;
  region_name: string;
  region_location: string;
  region_status: RegionStatus;
  available_slots: number;
}

/**
 * Regions with their available slots summed over the sellable profiles priced there, in one grouped query.
 * `ids` (references) includes retired regions; listings leave them out.
 */
export async function listRegions(
  db: Db,
  filter: { status?: 'active' | 'maintenance' | null | undefined; ids?: readonly string[] },
  afterCode: string | null,
  limit: number | null,
): Promise<(RegionRow & { availableSlots: number })[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (filter.ids) where.push(`r.id = ANY ($${params.push(filter.ids)}::uuid[])`);
  else where.push(`r.status <> 'retired'`);
  if (filter.status) where.push(`r.status = $${params.push(filter.status)}`);
  if (afterCode !== null) where.push(`r.code > $${params.push(afterCode)}`);
  const { rows } = await db.query<RegionSqlRow>(
    `WITH ${CURRENT_PRICES}, ${FREE_SLOTS},
     region_free AS (
       SELECT cp.region_id, sum(f.free)::integer AS free
       FROM current_prices cp
       JOIN compute.slice_profiles p ON p.id = cp.profile_id AND p.sellable
       JOIN free_slots f ON f.profile_id = cp.profile_id AND f.region_id = cp.region_id
       GROUP BY cp.region_id
     )
     SELECT ${REGION_COLUMNS('r')}, CASE WHEN r.status = 'active' THEN coalesce(rf.free, 0) ELSE 0 END AS available_slots
     FROM compute.regions r LEFT JOIN region_free rf ON rf.region_id = r.id
     WHERE ${where.join(' AND ')}
     ORDER BY r.code${limit === null ? '' : ` LIMIT $${params.push(limit)}`}`,
    params,
  );
  return rows.map((row) => ({ ...regionOf(row), availableSlots: row.available_slots }));
}

function regionOf(row: Omit<RegionSqlRow, 'available_slots'>): RegionRow {
  return { id: row.region_id, code: row.region_code, name: row.region_name, location: row.region_location, status: row.region_status };
}

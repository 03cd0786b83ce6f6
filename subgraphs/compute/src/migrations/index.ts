import type { MigrationSet } from '@gpuaas/db';
import { Migration0001ComputeInitial } from './0001-initial.js';
import { Migration0002AllocationNameOptional } from './0002-allocation-name-optional.js';
import { Migration0003ComputeNodeLifecycle } from './0003-node-lifecycle.js';
import { Migration0004ComputeCatalogRegions } from './0004-catalog-regions.js';

/** The compute schema's migrations in the order they apply (tracked in compute.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [
  { name: '0001-initial', class: Migration0001ComputeInitial },
  { name: '0002-allocation-name-optional', class: Migration0002AllocationNameOptional },
  { name: '0003-node-lifecycle', class: Migration0003ComputeNodeLifecycle },
  { name: '0004-catalog-regions', class: Migration0004ComputeCatalogRegions },
];

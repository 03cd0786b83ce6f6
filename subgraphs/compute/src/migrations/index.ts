import type { MigrationSet } from '@gpuaas/db';
import { Migration0001ComputeInitial } from './0001-initial.js';

/** The compute schema's migrations in the order they apply (tracked in compute.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [{ name: '0001-initial', class: Migration0001ComputeInitial }];

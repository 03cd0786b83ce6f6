import type { MigrationSet } from '@gpuaas/db';
import { Migration0001WorkloadsInitial } from './0001-initial.js';

/** The workloads schema's migrations in the order they apply (tracked in workloads.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [{ name: '0001-initial', class: Migration0001WorkloadsInitial }];

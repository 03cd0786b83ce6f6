import type { MigrationSet } from '@gpuaas/db';
import { Migration0001PlatformInitial } from './0001-initial.js';

/** The platform schema's migrations in the order they apply (tracked in platform.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [{ name: '0001-initial', class: Migration0001PlatformInitial }];

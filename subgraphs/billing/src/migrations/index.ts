import type { MigrationSet } from '@gpuaas/db';
import { Migration0001BillingInitial } from './0001-initial.js';

/** The billing schema's migrations in the order they apply (tracked in billing.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [{ name: '0001-initial', class: Migration0001BillingInitial }];

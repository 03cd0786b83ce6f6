import type { MigrationSet } from '../run-migrations.js';
import { Migration0001InfraInitial } from './0001-initial.js';

/** The infra schema's migrations in the order they apply (tracked in infra.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [{ name: '0001-initial', class: Migration0001InfraInitial }];

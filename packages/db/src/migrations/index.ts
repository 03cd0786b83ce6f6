import type { MigrationSet } from '../run-migrations.js';
import { Migration0001InfraInitial } from './0001-initial.js';
import { Migration0002InfraOutboxClaims } from './0002-outbox-claims.js';

/** The infra schema's migrations in the order they apply (tracked in infra.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [
  { name: '0001-initial', class: Migration0001InfraInitial },
  { name: '0002-outbox-claims', class: Migration0002InfraOutboxClaims },
];

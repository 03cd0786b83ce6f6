import type { MigrationObject } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { assertSafeIdentifier } from './database-url.js';
import { migrations as infraMigrations } from './migrations/index.js';

/** One schema's ordered migrations; each schema tracks what ran in its own `<schema>.mikro_orm_migrations`. */
export interface MigrationSet {
  schema: string;
  migrations: readonly MigrationObject[];
}

export interface RunMigrationsOptions {
  databaseUrl: string;
  /** Domain schemas, applied in this order after `infra` (which is always applied first). */
  sets: readonly MigrationSet[];
  log?: (message: string) => void;
}

export interface AppliedMigrations {
  schema: string;
  applied: string[];
}

export const MIGRATIONS_TABLE = 'mikro_orm_migrations';

// Any constant works; it only has to be the same for every process migrating this cluster.
const MIGRATION_LOCK_KEY = 7_340_112_001;

/** The infra schema (outbox, audit_logs, processed_events, idempotency_records) every domain writes to. */
export const infraMigrationSet: MigrationSet = { schema: 'infra', migrations: infraMigrations };

/**
 * Applies `infra` and then each set through MikroORM's Migrator, each migration in its own transaction. Replicas
 * starting together are serialised by a Postgres advisory lock, so the second one finds nothing left to do.
 */
export async function runMigrations(options: RunMigrationsOptions): Promise<AppliedMigrations[]> {
  const sets = [infraMigrationSet, ...options.sets.filter((set) => set.schema !== infraMigrationSet.schema)];
  for (const set of sets) assertSafeIdentifier(set.schema, 'schema name');

  const lock = new pg.Client({ connectionString: options.databaseUrl });
  await lock.connect();
  let orm: MikroORM | undefined;
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    orm = await MikroORM.init({
      clientUrl: options.databaseUrl,
      entities: [],
      discovery: { warnWhenNoEntities: false },
      pool: { min: 0, max: 1 },
      debug: false,
    });
    const report: AppliedMigrations[] = [];
    for (const set of sets) {
      await lock.query(`CREATE SCHEMA IF NOT EXISTS "${set.schema}"`);
      // The Migrator reads its options from the ORM config when constructed, so one ORM serves every schema.
      orm.config.set('migrations', {
        ...orm.config.get('migrations'),
        migrationsList: [...set.migrations],
        tableName: `${set.schema}.${MIGRATIONS_TABLE}`,
        snapshot: false,
        silent: true,
        transactional: true,
        allOrNothing: true,
        disableForeignKeys: false,
      });
      const applied = await new Migrator(orm.em).up();
      const names = applied.map((migration) => migration.name);
      if (names.length) options.log?.(`${set.schema}: applied ${names.join(', ')}`);
      report.push({ schema: set.schema, applied: names });
    }
    return report;
  } finally {
    await orm?.close(true);
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}

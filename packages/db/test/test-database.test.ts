import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrations as billingMigrations } from '../../../subgraphs/billing/src/migrations/index.js';
import { createTestDatabase, migrationSourcesHash } from '@gpuaas/testkit';
import { withDatabaseName } from '../src/index.js';

// The testkit lives beside its main consumer's tests: packages/db owns the migrations it clones.
describe('createTestDatabase', () => {
  it('hands out separate, fully migrated databases cloned from the template of the current migrations', async () => {
    const [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const a = new pg.Client({ connectionString: first.url });
    const b = new pg.Client({ connectionString: second.url });
    await Promise.all([a.connect(), b.connect()]);
    try {
      expect(first.name).not.toBe(second.name);
      await a.query(`INSERT INTO platform.runbooks (id, slug, title, body_markdown, created_by)
        VALUES (gen_random_uuid(), 'only-in-first', 'T', 'B', gen_random_uuid())`);
      const inSecond = await b.query(`SELECT 1 FROM platform.runbooks WHERE slug = 'only-in-first'`);
      expect(inSecond.rowCount).toBe(0);
      const migrated = await b.query<{ name: string }>('SELECT name FROM billing.mikro_orm_migrations');
      expect(migrated.rows.map((row) => row.name)).toEqual(billingMigrations.map((migration) => migration.name));

      const template = await a.query<{ datname: string; datallowconn: boolean }>(
        'SELECT datname, datallowconn FROM pg_database WHERE datname = $1',
        [`gpuaas_tpl_${await migrationSourcesHash()}`],
      );
      expect(template.rows).toEqual([{ datname: `gpuaas_tpl_${await migrationSourcesHash()}`, datallowconn: false }]);
    } finally {
      await Promise.all([a.end(), b.end()]);
      await Promise.all([first.drop(), second.drop()]);
    }
  });

  it('drops the database even while a test still holds a connection to it', async () => {
    const db = await createTestDatabase();
    const leaked = new pg.Client({ connectionString: db.url });
    leaked.on('error', () => undefined);
    await leaked.connect();
    await db.drop();
    const admin = new pg.Client({ connectionString: withDatabaseName(db.url, 'postgres') });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
      expect(rowCount).toBe(0);
    } finally {
      await admin.end();
      await leaked.end().catch(() => undefined);
    }
  });
});

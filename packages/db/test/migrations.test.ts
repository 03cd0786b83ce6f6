import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domainMigrationSets, migrateAll } from '../../../scripts/migrate.js';
import { infraMigrationSet, withDatabaseName } from '../src/index.js';

const SERVER_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCHEMA_FILE = new URL('../../../doc/architecture/db_schema.sql', import.meta.url);

// This file migrates a truly empty database itself (not a testkit clone): that is what it tests.
const name = `gpuaas_test_migrations_${randomBytes(4).toString('hex')}`;
const url = withDatabaseName(SERVER_URL, name);
let client: pg.Client;

/** What a fresh database must receive: every registered migration of every set, infra first. */
const expectedSets = [infraMigrationSet, ...domainMigrationSets].map((set) => ({
  schema: set.schema,
  applied: set.migrations.map((migration) => migration.name),
}));
const expectedCount = expectedSets.reduce((sum, set) => sum + set.applied.length, 0);

beforeAll(async () => {
  client = new pg.Client({ connectionString: url });
});

afterAll(async () => {
  await client.end().catch(() => undefined);
  const admin = new pg.Client({ connectionString: withDatabaseName(SERVER_URL, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

describe('migrations', () => {
  it('create a missing database and apply infra first, then every domain, once each', async () => {
    const report = await migrateAll(url);
    expect(report).toEqual(expectedSets);
    await client.connect();
  });

  it('build every table db_schema.sql declares', async () => {
    const declared = [...(await readFile(SCHEMA_FILE, 'utf8')).matchAll(/^CREATE TABLE (\w+\.\w+)/gm)].map((m) => m[1]);
    const { rows } = await client.query<{ name: string }>(
      `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
        WHERE table_schema = ANY($1) AND table_name <> 'mikro_orm_migrations'`,
      [['infra', 'access', 'compute', 'billing', 'workloads', 'platform']],
    );
    expect(declared.length).toBeGreaterThan(30);
    expect(rows.map((row) => row.name).sort()).toEqual([...declared].sort());
  });

  it('track each schema in its own mikro_orm_migrations table', async () => {
    for (const { schema, applied } of expectedSets) {
      const { rows } = await client.query<{ name: string }>(`SELECT name FROM "${schema}".mikro_orm_migrations ORDER BY id`);
      expect(rows.map((row) => row.name)).toEqual(applied);
    }
  });

  it('do nothing when run a second time', async () => {
    const report = await migrateAll(url);
    expect(report.every((set) => set.applied.length === 0)).toBe(true);
    expect(report).toHaveLength(6);
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM compute.mikro_orm_migrations');
    expect(Number(rows[0]?.count)).toBe(expectedSets.find((set) => set.schema === 'compute')?.applied.length);
  });

  it('let concurrent runners wait for each other instead of applying twice', async () => {
    const other = `${name}_concurrent`;
    const otherUrl = withDatabaseName(SERVER_URL, other);
    try {
      const reports = await Promise.all([migrateAll(otherUrl), migrateAll(otherUrl)]);
      const applied = reports.flat().reduce((sum, set) => sum + set.applied.length, 0);
      expect(applied).toBe(expectedCount);
    } finally {
      const admin = new pg.Client({ connectionString: withDatabaseName(SERVER_URL, 'postgres') });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${other}" WITH (FORCE)`);
      await admin.end();
    }
  });
});

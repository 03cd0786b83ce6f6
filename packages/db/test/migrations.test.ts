import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateAll } from '../../../scripts/migrate.js';
import { withDatabaseName } from '../src/index.js';

const SERVER_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCHEMA_FILE = new URL('../../../doc/architecture/db_schema.sql', import.meta.url);

// This file migrates a truly empty database itself (not a testkit clone): that is what it tests.
const name = `gpuaas_test_migrations_${randomBytes(4).toString('hex')}`;
const url = withDatabaseName(SERVER_URL, name);
let client: pg.Client;

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
    expect(report).toEqual([
      { schema: 'infra', applied: ['0001-initial'] },
      { schema: 'access', applied: ['0001-initial'] },
      { schema: 'compute', applied: ['0001-initial'] },
      { schema: 'billing', applied: ['0001-initial'] },
      { schema: 'workloads', applied: ['0001-initial'] },
      { schema: 'platform', applied: ['0001-initial'] },
    ]);
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
    for (const schema of ['infra', 'access', 'compute', 'billing', 'workloads', 'platform']) {
      const { rows } = await client.query<{ name: string }>(`SELECT name FROM "${schema}".mikro_orm_migrations`);
      expect(rows.map((row) => row.name)).toEqual(['0001-initial']);
    }
  });

  it('do nothing when run a second time', async () => {
    const report = await migrateAll(url);
    expect(report.every((set) => set.applied.length === 0)).toBe(true);
    expect(report).toHaveLength(6);
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM compute.mikro_orm_migrations');
    expect(rows[0]?.count).toBe('1');
  });

  it('let concurrent runners wait for each other instead of applying twice', async () => {
    const other = `${name}_concurrent`;
    const otherUrl = withDatabaseName(SERVER_URL, other);
    try {
      const reports = await Promise.all([migrateAll(otherUrl), migrateAll(otherUrl)]);
      const applied = reports.flat().reduce((sum, set) => sum + set.applied.length, 0);
      expect(applied).toBe(6);
    } finally {
      const admin = new pg.Client({ connectionString: withDatabaseName(SERVER_URL, 'postgres') });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${other}" WITH (FORCE)`);
      await admin.end();
    }
  });
});

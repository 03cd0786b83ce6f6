import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchemaDrift, DEFAULT_SCHEMA_FILE, DEFAULT_SERVER_URL, normalizeDump, unifiedDiff } from '../schema_drift.js';
import { migrateAll } from '../../migrate.js';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const serverUrl = process.env.TEST_POSTGRES_URL ?? DEFAULT_SERVER_URL;

let workDir: string;
let schemaSql: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'gpuaas-drift-'));
  schemaSql = await readFile(DEFAULT_SCHEMA_FILE, 'utf8');
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function plantSchemaFile(name: string, from: string, to: string): Promise<string> {
  expect(schemaSql).toContain(from);
  const path = join(workDir, name);
  await writeFile(path, schemaSql.replace(from, to));
  return path;
}

async function existingDatabases(names: readonly string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [names]);
    return rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

// Each check uses its own scratch databases, so they run side by side.
describe.concurrent('schema_drift gate', () => {
  it('passes on the repository: the migrations build exactly db_schema.sql', async () => {
    const result = await checkSchemaDrift({ serverUrl });
    expect(result.diff).toBe('');
    expect(result.crossSchemaForeignKeys).toEqual([]);
    expect(result.ok).toBe(true);
    expect(await existingDatabases(result.databases)).toEqual([]);
  }, 60_000);

  it('fails with a diff naming the column when db_schema.sql has a column no migration adds', async () => {
    const planted = await plantSchemaFile('extra-column.sql', '  display_name text NOT NULL', '  nickname text,\n  display_name text NOT NULL');
    const result = await checkSchemaDrift({ serverUrl, schemaFile: planted });
    expect(result.ok).toBe(false);
    expect(result.diff).toMatch(/^-\s+nickname text,$/m);
    expect(result.diff.split('\n').filter((line) => /^[-+](?![-+])/.test(line))).toEqual(['-    nickname text,']);
    expect(await existingDatabases(result.databases)).toEqual([]);
  }, 60_000);

  it('fails when the migrations lack an index that db_schema.sql declares', async () => {
    const result = await checkSchemaDrift({
      serverUrl,
      migrate: async (url) => {
        await migrateAll(url);
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query('DROP INDEX compute.allocations_slot_live_key');
        await client.end();
      },
    });
    expect(result.ok).toBe(false);
    expect(result.diff).toMatch(/^-CREATE UNIQUE INDEX allocations_slot_live_key ON compute\.allocations/m);
  }, 60_000);

  it('fails on a foreign key into another schema even when file and migrations agree', async () => {
    const crossing = 'ALTER TABLE billing.meters ADD CONSTRAINT meters_allocation_fkey FOREIGN KEY (allocation_id) REFERENCES compute.allocations (id);';
    const planted = join(workDir, 'cross-schema.sql');
    await writeFile(planted, `${schemaSql}\n${crossing}\n`);
    const result = await checkSchemaDrift({
      serverUrl,
      schemaFile: planted,
      migrate: async (url) => {
        await migrateAll(url);
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(crossing);
        await client.end();
      },
    });
    expect(result.diff).toBe('');
    expect(result.ok).toBe(false);
    expect(result.crossSchemaForeignKeys).toEqual(['billing.meters.meters_allocation_fkey -> compute.allocations']);
  }, 60_000);

  it('exits 1 from the command line and prints the diff on a planted missing index', async () => {
    const planted = await plantSchemaFile(
      'extra-index.sql',
      'CREATE INDEX runbooks_tags_idx',
      'CREATE INDEX runbooks_title_idx ON platform.runbooks (title);\nCREATE INDEX runbooks_tags_idx',
    );
    const failure = await run(process.execPath, ['--import', 'tsx', 'scripts/ci/schema_drift.ts', '--schema-file', planted, '--database-url', serverUrl], {
      cwd: REPO_ROOT,
    }).then(
      () => undefined,
      (error: { code?: number; stdout?: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toContain('schema_drift: FAILED');
    expect(failure?.stdout).toMatch(/^-CREATE INDEX runbooks_title_idx ON platform\.runbooks USING btree \(title\);$/m);
  }, 90_000);
});

describe('dump normalisation and diff', () => {
  it('ignores comments, SET lines, restrict keys and the migration bookkeeping', () => {
    const dump = [
      '--',
      '-- Name: users; Type: TABLE',
      '\\restrict abc',
      'SET statement_timeout = 0;',
      "SELECT pg_catalog.set_config('search_path', '', false);",
      '',
      'CREATE TABLE access.users (   ',
      'CREATE TABLE access.mikro_orm_migrations (',
      '\\unrestrict abc',
    ].join('\n');
    expect(normalizeDump(dump)).toEqual(['CREATE TABLE access.users (']);
  });

  it('renders changed lines with context in unified form', () => {
    const diff = unifiedDiff(['a', 'b', 'c', 'd'], ['a', 'b', 'x', 'd'], { from: 'left', to: 'right' });
    expect(diff).toBe('--- left\n+++ right\n@@ -1,4 +1,4 @@\n a\n b\n-c\n+x\n d\n');
    expect(unifiedDiff(['a'], ['a'], { from: 'l', to: 'r' })).toBe('');
  });
});

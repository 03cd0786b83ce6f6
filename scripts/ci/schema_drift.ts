import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { withDatabaseName } from '@gpuaas/db';

const run = promisify(execFile);

export const DEFAULT_SCHEMA_FILE = fileURLToPath(new URL('../../doc/architecture/db_schema.sql', import.meta.url));
export const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** Always compared; `-- schema: <name>` markers in the schema file add to this list. */
export const SCHEMAS = ['infra', 'access', 'compute', 'billing', 'workloads', 'platform'] as const;

export interface SchemaDriftOptions {
  /** Any url on the server to use; the scratch databases are created beside it. */
  serverUrl?: string;
  schemaFile?: string;
  /** Applies the migrations to an empty database at `databaseUrl`; defaults to scripts/migrate.ts's migrateAll. */
  migrate?: (databaseUrl: string) => Promise<unknown>;
  pgDump?: string;
}

export interface SchemaDriftResult {
  ok: boolean;
  /** Unified diff from the schema file's dump (---) to the migrations' dump (+++); empty when they match. */
  diff: string;
  /** Foreign keys that cross from one schema into another (`schema.table.constraint -> schema.table`). */
  crossSchemaForeignKeys: string[];
  /** The scratch databases used (already dropped). */
  databases: [string, string];
}

/**
 * The schema_drift gate: applies the schema file to one scratch database and the migrations to another, dumps
 * both (schema only, the domain and infra schemas, without the migration bookkeeping tables) and compares.
 */
export async function checkSchemaDrift(options: SchemaDriftOptions = {}): Promise<SchemaDriftResult> {
  const serverUrl = options.serverUrl ?? DEFAULT_SERVER_URL;
  const schemaFile = options.schemaFile ?? DEFAULT_SCHEMA_FILE;
  const migrate = options.migrate ?? (async (url: string) => (await import('../migrate.js')).migrateAll(url));
  const pgDump = options.pgDump ?? 'pg_dump';
  const schemaSql = await readFile(schemaFile, 'utf8');
  const schemas = [...new Set([...SCHEMAS, ...schemaMarkers(schemaSql)])];

  const tag = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const fromSql = `gpuaas_drift_${tag}_sql`;
  const fromMigrations = `gpuaas_drift_${tag}_mig`;
  const admin = new pg.Client({ connectionString: withDatabaseName(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${fromSql}"`);
    await admin.query(`CREATE DATABASE "${fromMigrations}"`);

    const sqlUrl = withDatabaseName(serverUrl, fromSql);
    const target = new pg.Client({ connectionString: sqlUrl });
    await target.connect();
    try {
      await target.query(schemaSql);
    } finally {
      await target.end();
    }
    const migrationsUrl = withDatabaseName(serverUrl, fromMigrations);
    await migrate(migrationsUrl);
    const crossSchemaForeignKeys = await findCrossSchemaForeignKeys(migrationsUrl);

    const [expected, actual] = await Promise.all([
      dumpSchema(pgDump, sqlUrl, schemas),
      dumpSchema(pgDump, migrationsUrl, schemas),
    ]);
    const diff = unifiedDiff(normalizeDump(expected), normalizeDump(actual), {
      from: `${schemaFile} (applied)`,
      to: 'migrations (applied)',
    });
    return { ok: diff === '' && crossSchemaForeignKeys.length === 0, diff, crossSchemaForeignKeys, databases: [fromSql, fromMigrations] };
  } finally {
    for (const name of [fromSql, fromMigrations]) {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    }
    await admin.end();
  }
}

/** Domains stay separable only if no foreign key reaches into another schema; such references are plain uuids. */
async function findCrossSchemaForeignKeys(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ fk: string }>(
      `SELECT format('%s.%s -> %s', c.conrelid::regclass, c.conname, c.confrelid::regclass) AS fk
         FROM pg_constraint c
         JOIN pg_class src ON src.oid = c.conrelid
         JOIN pg_class dst ON dst.oid = c.confrelid
        WHERE c.contype = 'f' AND src.relnamespace <> dst.relnamespace
        ORDER BY 1`,
    );
    return rows.map((row) => row.fk);
  } finally {
    await client.end();
  }
}

function schemaMarkers(sql: string): string[] {
  return [...sql.matchAll(/^-- schema: ([a-z_][a-z0-9_]*)\s*$/gm)].map((match) => match[1]!);
}

async function dumpSchema(pgDump: string, databaseUrl: string, schemas: readonly string[]): Promise<string> {
  const args = ['--schema-only', '--no-owner', '--no-privileges', `--dbname=${databaseUrl}`];
  for (const schema of schemas) args.push(`--schema=${schema}`);
  // -T also matches sequences, so the bookkeeping table and its id sequence both stay out.
  args.push('--exclude-table=*.mikro_orm_migrations', '--exclude-table=*.mikro_orm_migrations_id_seq');
  const { stdout } = await run(pgDump, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * Drops what differs between two dumps of the same schema without meaning anything: comments, session SET
 * lines, the random `\restrict` keys newer pg_dump releases emit, blank lines, trailing spaces, and anything
 * left mentioning the migration bookkeeping tables.
 */
export function normalizeDump(dump: string): string[] {
  return dump
    .split('\n')
    .map((line) => line.trimEnd())
    .filter(
      (line) =>
        line !== '' &&
        !line.startsWith('--') &&
        !line.startsWith('SET ') &&
        !line.startsWith('SELECT pg_catalog.set_config(') &&
        !line.startsWith('\\restrict') &&
        !line.startsWith('\\unrestrict') &&
        !line.includes('mikro_orm_migrations'),
    );
}

/** A line-based unified diff (LCS) with three lines of context; empty when the inputs are equal. */
export function unifiedDiff(a: readonly string[], b: readonly string[], labels: { from: string; to: string }): string {
  type Op = { kind: ' ' | '-' | '+'; line: string; aIndex: number; bIndex: number };
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: ' ', line: a[i]!, aIndex: i++, bIndex: j++ });
    // Deletions before insertions, as diff -u prints them.
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ kind: '-', line: a[i]!, aIndex: i++, bIndex: j });
    else ops.push({ kind: '+', line: b[j]!, aIndex: i, bIndex: j++ });
  }
  if (ops.every((op) => op.kind === ' ')) return '';

  const context = 3;
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k]!.kind === ' ') k++;
    if (k >= ops.length) break;
    let start = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while the next change is within 2 * context lines of the last one.
    while (end < ops.length) {
      let next = end;
      while (next < ops.length && ops[next]!.kind !== ' ') next++;
      let gap = next;
      while (gap < ops.length && ops[gap]!.kind === ' ') gap++;
      end = next;
      if (gap >= ops.length || gap - next > 2 * context) break;
      end = gap;
    }
    const stop = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, stop);
    const aCount = hunk.filter((op) => op.kind !== '+').length;
    const bCount = hunk.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${hunk[0]!.aIndex + 1},${aCount} +${hunk[0]!.bIndex + 1},${bCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    k = stop;
    start = stop;
  }
  return `${out.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'schema-file': { type: 'string' },
      'migrations-from': { type: 'string' },
      'database-url': { type: 'string' },
    },
  });
  const migrationsFrom = values['migrations-from'];
  const migrate = migrationsFrom
    ? async (url: string) => {
        const module = (await import(pathToFileURL(migrationsFrom).href)) as { migrateAll?: (url: string) => Promise<unknown> };
        if (typeof module.migrateAll !== 'function') throw new Error(`${migrationsFrom} exports no migrateAll(databaseUrl)`);
        return module.migrateAll(url);
      }
    : undefined;
  const result = await checkSchemaDrift({
    ...(values['schema-file'] ? { schemaFile: values['schema-file'] } : {}),
    serverUrl: values['database-url'] ?? process.env.DATABASE_URL ?? DEFAULT_SERVER_URL,
    ...(migrate ? { migrate } : {}),
  });
  if (result.ok) {
    console.log('schema_drift: ok (migrations build exactly doc/architecture/db_schema.sql)');
    return;
  }
  if (result.diff) {
    console.log('schema_drift: FAILED, the migrations and the schema file differ:\n');
    console.log(result.diff);
    console.log('Fix: add a migration for the change (or update db_schema.sql to match), keeping both identical.');
  }
  if (result.crossSchemaForeignKeys.length) {
    console.log('schema_drift: FAILED, foreign keys cross schemas (use a plain uuid column with a comment):');
    for (const fk of result.crossSchemaForeignKeys) console.log(`  ${fk}`);
  }
  process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error('schema_drift: error:', error);
    process.exitCode = 2;
  });
}

import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { withDatabaseName } from '@gpuaas/db';

export interface TestDatabase {
  /** Connection url of the fresh, fully migrated database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, ending any connection a test left open. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Any url on the Postgres server to use (default: TEST_POSTGRES_URL or the local dev server). */
  serverUrl?: string;
}

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TEMPLATE_PREFIX = 'gpuaas_tpl_';
const TEST_PREFIX = 'gpuaas_test_';
// One advisory lock per Postgres cluster guards building, pruning and cloning templates.
const TEMPLATE_LOCK_KEY = 7_340_112_002;

/** Everything that decides what a migrated database looks like; a change to any of it builds a new template. */
const MIGRATION_SOURCES = [
  'doc/architecture/db_schema.sql',
  'scripts/migrate.ts',
  'packages/db/src/run-migrations.ts',
  'packages/db/src/migrations',
  'subgraphs/access/src/migrations',
  'subgraphs/compute/src/migrations',
  'subgraphs/billing/src/migrations',
  'subgraphs/workloads/src/migrations',
  'subgraphs/platform/src/migrations',
];

let templateNamePromise: Promise<string> | undefined;

/**
 * A fresh database for one test file, cloned (CREATE DATABASE … TEMPLATE) from a migrated template whose name
 * carries a hash of every migration source, so clones take a fraction of a second instead of a full migration.
 * The template is built once per machine under an advisory lock, and accepts no connections once built, so a
 * clone never races a session open on it. Call `drop()` in afterAll.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  templateNamePromise ??= migrationSourcesHash().then((hash) => `${TEMPLATE_PREFIX}${hash}`);
  const template = await templateNamePromise;
  const name = `${TEST_PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

  const admin = new pg.Client({ connectionString: withDatabaseName(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      await ensureTemplate(admin, serverUrl, template);
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  } finally {
    await admin.end();
  }

  const url = withDatabaseName(serverUrl, name);
  let dropped = false;
  return {
    url,
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      const client = new pg.Client({ connectionString: withDatabaseName(serverUrl, 'postgres') });
      await client.connect();
      try {
        await waitForSessionsToClose(client, name);
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A pool's `end()` can resolve while its last sessions are still closing; forcing the drop then kills them mid-close
 * and their clients raise an error nobody listens to any more. So wait (bounded) for the sessions to go first;
 * FORCE only cleans up connections a test really leaked.
 */
async function waitForSessionsToClose(client: pg.Client, database: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query<{ sessions: number }>(
      'SELECT count(*)::int AS sessions FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database],
    );
    if ((rows[0]?.sessions ?? 0) === 0 || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Short sha-256 over the path and content of every migration source, in a stable order. */
export async function migrationSourcesHash(): Promise<string> {
  const files = (await Promise.all(MIGRATION_SOURCES.map((source) => listFiles(join(REPO_ROOT, source))))).flat().sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(REPO_ROOT, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function listFiles(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!entries) return [path];
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? listFiles(join(path, entry.name)) : [join(path, entry.name)])),
  );
  return nested.flat();
}

/** Builds the template if this cluster lacks it; the caller holds the template advisory lock. */
async function ensureTemplate(admin: pg.Client, serverUrl: string, template: string): Promise<void> {
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
  if (exists.rowCount) return;

  // Built under another name and renamed when complete, so a crash mid-migration never leaves a usable half template.
  const building = `${template}_build`;
  await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${building}"`);
  // Imported lazily: only the process that builds the template needs the migrations.
  const { migrateAll } = await import('../../../scripts/migrate.js');
  await migrateAll(withDatabaseName(serverUrl, building));
  await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
  await admin.query(`ALTER DATABASE "${template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
  await pruneStaleTemplates(admin, template);
}

/** Templates built from older migration sources are dead weight; drop them (they accept no connections). */
async function pruneStaleTemplates(admin: pg.Client, keep: string): Promise<void> {
  const stale = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'gpuaas\\_tpl\\_%' AND datname <> $1",
    [keep],
  );
  for (const { datname } of stale.rows) {
    await admin.query(`ALTER DATABASE "${datname}" WITH IS_TEMPLATE false`).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
  }
}

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDatabase, redactUrl, runMigrations, type AppliedMigrations, type MigrationSet } from '@gpuaas/db';
import { migrations as access } from '../subgraphs/access/src/migrations/index.js';
import { migrations as billing } from '../subgraphs/billing/src/migrations/index.js';
import { migrations as compute } from '../subgraphs/compute/src/migrations/index.js';
import { migrations as platform } from '../subgraphs/platform/src/migrations/index.js';
import { migrations as workloads } from '../subgraphs/workloads/src/migrations/index.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/gpuaas';

/** Every domain's migrations; infra is added (first) by runMigrations itself. */
export const domainMigrationSets: readonly MigrationSet[] = [
  { schema: 'access', migrations: access },
  { schema: 'compute', migrations: compute },
  { schema: 'billing', migrations: billing },
  { schema: 'workloads', migrations: workloads },
  { schema: 'platform', migrations: platform },
];

/** Creates the database if it is missing, then applies infra and all five domains' pending migrations. */
export async function migrateAll(
  databaseUrl: string,
  options: { log?: (message: string) => void } = {},
): Promise<AppliedMigrations[]> {
  await ensureDatabase(databaseUrl);
  return runMigrations({ databaseUrl, sets: domainMigrationSets, ...(options.log ? { log: options.log } : {}) });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'database-url': { type: 'string' } } });
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const report = await migrateAll(databaseUrl, { log: (message) => console.log(message) });
  const applied = report.reduce((sum, set) => sum + set.applied.length, 0);
  console.log(`migrate: ${redactUrl(databaseUrl)} is up to date (${applied} migration(s) applied now)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error('migrate failed:', error);
    process.exitCode = 1;
  });
}

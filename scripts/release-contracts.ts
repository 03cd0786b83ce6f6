/**
 * Snapshots the current contracts as the released baseline the breaking-change gate compares against:
 *   doc/api/openapi.yaml              → doc/api/released/openapi.yaml
 *   composed supergraph's API schema  → doc/api/released/supergraph-api.graphql
 * Run when a contract version is frozen: `npx tsx scripts/release-contracts.ts`, then empty
 * doc/api/breaking-changes.yaml (its approvals were for the previous baseline) and commit everything together.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { releasedApiSchema, releasedOpenApi } from './ci/contracts_breaking_change.js';
import { checkBundlesFresh } from './ci/contracts_validate.js';
import { isMain } from './ci/lib/gate.js';
import { toolsRoot } from './ci/lib/repo.js';
import { composeApiSchemaSdl } from './ci/lib/supergraph.js';

export async function releaseContracts(root: string): Promise<string[]> {
  const stale = checkBundlesFresh(root);
  if (stale.length > 0) throw new Error(`refusing to release a stale bundle:\n  - ${stale.join('\n  - ')}`);
  const written: string[] = [];
  mkdirSync(join(root, 'doc/api/released'), { recursive: true });
  if (existsSync(join(root, 'doc/api/openapi.yaml'))) {
    copyFileSync(join(root, 'doc/api/openapi.yaml'), join(root, releasedOpenApi));
    written.push(releasedOpenApi);
  }
  const apiSchema = await composeApiSchemaSdl(root);
  if (apiSchema !== undefined) {
    writeFileSync(join(root, releasedApiSchema), apiSchema);
    written.push(releasedApiSchema);
  }
  return written;
}

if (isMain(import.meta.url)) {
  for (const path of await releaseContracts(toolsRoot)) process.stdout.write(`wrote ${path}\n`);
}

/**
 * The one codegen pipeline. From the contract sources it renders, in memory and deterministically:
 *   doc/api/openapi.yaml, doc/api/asyncapi.yaml          bundles of the fragments (scripts/bundle-contracts.ts)
 *   packages/contracts/src/generated/openapi.ts          REST types (openapi-typescript)
 *   packages/contracts/src/generated/events.ts           event payload types, subject and stream maps
 *   subgraphs/<domain>/src/generated/resolvers-types.ts  resolver types per subgraph (@graphql-codegen)
 *   gateway/supergraph.graphql                           the composed supergraph (scripts/compose-supergraph.ts)
 *   doc/errors.md, doc/policies.md, doc/nats-subjects.md, doc/api/API_Surface.md   (scripts/gen-docs.ts)
 * `npx tsx scripts/codegen.ts` writes what changed; `--check` writes nothing, lists every stale file and exits 1
 * (the codegen_fresh gate).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSubgraphSdl } from '@gpuaas/service-kit';
import { bundle, render } from './bundle-contracts.js';
import { codeCatalogs, generateDocs, type DocInputs } from './gen-docs.js';
import { generateEventTypes } from './ci/lib/codegen-event-types.js';
import { generateOpenApiTypes } from './ci/lib/codegen-openapi-types.js';
import { generateResolverTypes } from './ci/lib/codegen-resolver-types.js';
import { isMain } from './ci/lib/gate.js';
import { staleFiles, writeFiles, type GeneratedFile } from './ci/lib/generated-files.js';
import { listDirs, readYamlFile, repoPath, toolsRoot, type JsonObject } from './ci/lib/repo.js';
import { composeSupergraphSdl } from './ci/lib/supergraph.js';

export interface CodegenOptions {
  readonly root: string;
  /** Renders gateway/supergraph.graphql for `root`, or undefined when there is nothing to compose. */
  readonly composeSupergraph?: (root: string) => Promise<string | undefined>;
  readonly catalogs?: Pick<DocInputs, 'errorCatalog' | 'policyCatalog'>;
}

export interface CodegenResult {
  readonly files: GeneratedFile[];
  /** Steps skipped because their input does not exist yet. */
  readonly notes: string[];
}

export async function generateAll(options: CodegenOptions): Promise<CodegenResult> {
  const { root } = options;
  const files: GeneratedFile[] = [];
  const notes: string[] = [];

  const contracts: Partial<Record<'openapi' | 'asyncapi', JsonObject>> = {};
  for (const kind of ['openapi', 'asyncapi'] as const) {
    const fragments = join(root, 'doc/api', kind);
    const bundled = join(root, 'doc/api', `${kind}.yaml`);
    if (existsSync(join(fragments, '_root.yaml'))) {
      contracts[kind] = bundle(kind, fragments);
      files.push({ path: `doc/api/${kind}.yaml`, content: render(contracts[kind]) });
    } else if (existsSync(bundled)) {
      contracts[kind] = readYamlFile(bundled) as JsonObject;
    } else {
      notes.push(`no ${kind} contract (doc/api/${kind}/_root.yaml): its outputs are rendered empty`);
    }
  }

  if (contracts.openapi) {
    files.push({ path: 'packages/contracts/src/generated/openapi.ts', content: await generateOpenApiTypes(contracts.openapi) });
  }
  files.push({ path: 'packages/contracts/src/generated/events.ts', content: await generateEventTypes(contracts.asyncapi) });

  for (const subgraph of listDirs(join(root, 'subgraphs'))) {
    const sdl = readSubgraphSdl(subgraph);
    if (sdl === undefined) continue;
    const source = repoPath(root, join(subgraph, 'schema.graphql'));
    try {
      files.push({
        path: `${repoPath(root, subgraph)}/src/generated/resolvers-types.ts`,
        content: await generateResolverTypes(sdl, source),
      });
    } catch (error) {
      throw new Error(`${source}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  const supergraph = await (options.composeSupergraph ?? composeSupergraphSdl)(root);
  if (supergraph === undefined) notes.push('supergraph not composed (no subgraph schemas or no scripts/compose-supergraph.ts yet)');
  else files.push({ path: 'gateway/supergraph.graphql', content: supergraph });

  files.push(...generateDocs({ openapi: contracts.openapi, asyncapi: contracts.asyncapi, ...(options.catalogs ?? codeCatalogs) }));
  return { files, notes };
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const { files, notes } = await generateAll({ root: toolsRoot });
  for (const note of notes) process.stdout.write(`note: ${note}\n`);
  if (check) {
    const stale = staleFiles(toolsRoot, files);
    if (stale.length === 0) {
      process.stdout.write(`codegen is fresh (${files.length} files)\n`);
      return;
    }
    process.stderr.write(`${stale.length} generated file${stale.length === 1 ? ' is' : 's are'} stale — run \`npm run codegen\` and commit the result:\n`);
    for (const path of stale) process.stderr.write(`  - ${path}\n`);
    process.exitCode = 1;
    return;
  }
  const written = writeFiles(toolsRoot, files);
  for (const path of written) process.stdout.write(`wrote ${path}\n`);
  process.stdout.write(`${written.length} of ${files.length} generated files changed\n`);
}

if (isMain(import.meta.url)) await main();

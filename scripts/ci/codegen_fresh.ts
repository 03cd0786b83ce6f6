/**
 * Gate: every generated artefact is committed fresh — the contract bundles, packages/contracts types, each subgraph's
 * resolver types, gateway/supergraph.graphql and the generated docs. It runs the codegen pipeline in memory
 * (scripts/codegen.ts) and lists each file whose committed content differs.
 * Run: npx tsx scripts/ci/codegen_fresh.ts   (same as `npm run codegen -- --check`; fix with `npm run codegen`)
 */
import { generateAll, type CodegenOptions } from '../codegen.js';
import { isMain, runGateCli, type GateResult } from './lib/gate.js';
import { staleFiles } from './lib/generated-files.js';
import { toolsRoot } from './lib/repo.js';

export async function checkCodegenFresh(options: CodegenOptions): Promise<GateResult> {
  let generated: Awaited<ReturnType<typeof generateAll>>;
  try {
    generated = await generateAll(options);
  } catch (error) {
    return { problems: [`the codegen failed: ${error instanceof Error ? error.message : String(error)}`], notes: [] };
  }
  const stale = staleFiles(options.root, generated.files);
  return {
    problems: stale.map((path) => `${path} is stale: run \`npm run codegen\` and commit the result`),
    notes: generated.notes,
  };
}

if (isMain(import.meta.url)) await runGateCli('codegen_fresh', () => checkCodegenFresh({ root: toolsRoot }));

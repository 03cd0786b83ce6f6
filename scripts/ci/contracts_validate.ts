/**
 * Gate: the bundled contracts are valid and follow the house rules.
 *   1. doc/api/openapi.yaml and doc/api/asyncapi.yaml are fresh bundles of their fragments (bundle-contracts --check).
 *   2. `redocly lint` of both bundles with the repo's redocly.yaml (recommended + strict operation/example rules).
 *   3. House rules on the OpenAPI (scripts/ci/lib/openapi-house-rules.ts): operationId and a domain tag on every
 *      operation; X-Idempotency-Key on every mutation; ErrorResponse on every 4xx/5xx/default; cursor+limit on every
 *      list ({data, next_cursor}); money fields are Money or integer `*_minor`, never a number.
 *   4. House rules on the AsyncAPI: every channel has `x-stream`, every operation `action: send|receive` and `x-service`.
 * Run: npx tsx scripts/ci/contracts_validate.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, render } from '../bundle-contracts.js';
import { isMain, runGateCli, type GateResult } from './lib/gate.js';
import { checkEventHouseRules } from './lib/asyncapi-house-rules.js';
import { checkHouseRules } from './lib/openapi-house-rules.js';
import { isObject, readYamlFile, toolsRoot, type JsonObject } from './lib/repo.js';
import { runTool } from './lib/tools.js';

const kinds = ['openapi', 'asyncapi'] as const;

export async function validateContracts(options: { root: string }): Promise<GateResult> {
  const { root } = options;
  const problems: string[] = [];
  const notes: string[] = [];
  problems.push(...checkBundlesFresh(root));
  for (const kind of kinds) {
    const file = join(root, 'doc/api', `${kind}.yaml`);
    if (!existsSync(file)) {
      notes.push(`doc/api/${kind}.yaml does not exist yet; not linted`);
      continue;
    }
    const lint = await redoclyLint(root, `doc/api/${kind}.yaml`);
    problems.push(...lint.errors);
    if (lint.warnings > 0) notes.push(`doc/api/${kind}.yaml: ${lint.warnings} Redocly warning(s) (run \`npx redocly lint doc/api/${kind}.yaml\` to see them)`);
  }
  const openapiFile = join(root, 'doc/api/openapi.yaml');
  if (existsSync(openapiFile)) {
    problems.push(...checkHouseRules(readYamlFile(openapiFile) as JsonObject).map((p) => `doc/api/openapi.yaml: ${p}`));
  }
  const asyncapiFile = join(root, 'doc/api/asyncapi.yaml');
  if (existsSync(asyncapiFile)) {
    problems.push(...checkEventHouseRules(readYamlFile(asyncapiFile) as JsonObject).map((p) => `doc/api/asyncapi.yaml: ${p}`));
  }
  return { problems, notes };
}

/** Same comparison as `bundle-contracts --check`, for any root. */
export function checkBundlesFresh(root: string): string[] {
  const problems: string[] = [];
  for (const kind of kinds) {
    const fragments = join(root, 'doc/api', kind);
    if (!existsSync(join(fragments, '_root.yaml'))) continue;
    const target = join(root, 'doc/api', `${kind}.yaml`);
    try {
      const rendered = render(bundle(kind, fragments));
      if (!existsSync(target) || readFileSync(target, 'utf8') !== rendered) {
        problems.push(`doc/api/${kind}.yaml is stale: run \`npm run codegen\` (or \`npx tsx scripts/bundle-contracts.ts\`) and commit the result`);
      }
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  return problems;
}

interface RedoclyProblem {
  ruleId: string;
  severity: string;
  message: string;
  location?: Array<{ pointer?: string; start?: { line: number; col: number } }>;
}

async function redoclyLint(root: string, file: string): Promise<{ errors: string[]; warnings: number }> {
  const config = join(root, 'redocly.yaml');
  if (!existsSync(config)) return { errors: [`redocly.yaml is missing at the repository root`], warnings: 0 };
  const run = await runTool('redocly', ['lint', file, '--config', config, '--format=json'], { cwd: root });
  let report: unknown;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    return { errors: [`${file}: redocly lint did not report (exit ${run.code}):\n${(run.stderr || run.stdout).trim().slice(-2000)}`], warnings: 0 };
  }
  const problems = (isObject(report) && Array.isArray(report['problems']) ? report['problems'] : []) as RedoclyProblem[];
  const errors = problems
    .filter((p) => p.severity === 'error')
    .map((p) => {
      const at = p.location?.[0];
      const line = at?.start ? `:${at.start.line}:${at.start.col}` : '';
      return `${file}${line} [${p.ruleId}] ${p.message}${at?.pointer ? ` (at ${at.pointer})` : ''}`;
    });
  if (errors.length === 0 && run.code !== 0) errors.push(`${file}: redocly lint exited ${run.code}: ${run.stderr.trim().slice(-2000)}`);
  return { errors, warnings: problems.filter((p) => p.severity === 'warn').length };
}

if (isMain(import.meta.url)) await runGateCli('contracts_validate', () => validateContracts({ root: toolsRoot }));

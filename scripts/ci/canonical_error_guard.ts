/**
 * Gate: every error that can leave a boundary carries a code from the error catalog (packages/errors, doc/errors.md).
 * Scans boundary code — subgraphs/<domain>/src, gateway/src, rest-adapter/src, workers/src; not generated folders,
 * tests, `src/testing/` helpers, nor the start-up-only `src/main.ts` and `src/config.ts` — and flags:
 *   - `throw new Error(` / `throw Error(`: throw an AppError (or NotFound, Conflict…) with a catalog code instead;
 *   - `new GraphQLError(` without `extensions: { code }`, or with a literal code not in the catalog;
 *   - `new AppError('<code>'` with a code not in the catalog (tsc catches most; this also covers JS-ish casts);
 *   - `res.status(…).json(` / `.send(` outside the envelope helpers in `envelopeWriters` — responses are written
 *     in one place so that every error body is `{code, message, correlation_id, details?}`.
 * It also checks the contracts: every `code` in an error example of doc/api/openapi.yaml, and every code named in a
 * subgraph SDL (`code: x`, ``code `x` ``), is a catalog code.
 * A line that must break a rule on purpose carries `// ci-allow canonical_error_guard: <reason>` (or on the line
 * above), e.g. a start-up misconfiguration that can never reach a client.
 * Run: npx tsx scripts/ci/canonical_error_guard.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCodes } from '@gpuaas/errors';
import { isMain, runGateCli, type GateResult } from './lib/gate.js';
import { examplesOf, isErrorStatus, listOperations, mediaTypesOf, responsesOf } from './lib/openapi-model.js';
import { isObject, listDirs, readYamlFile, repoPath, toolsRoot, type JsonObject } from './lib/repo.js';
import { balancedArguments, formatFinding, loadSources, scan, type Finding, type SourceFile } from './lib/source-scan.js';

const gate = 'canonical_error_guard';
export const boundaryCode = ['subgraphs/*/src', 'gateway/src', 'rest-adapter/src', 'workers/src'];

/** Code that runs before a request can arrive (or only in tests): its errors can never reach a client. */
const startupOnly = /\/src\/(main|config)\.ts$|\/src\/testing\//;

/** The only files that may write a response status and body themselves (repo-relative). */
export const envelopeWriters: readonly string[] = ['rest-adapter/src/http/dispatch.ts'];

export async function checkCanonicalErrors(options: { root: string; codes?: readonly string[] }): Promise<GateResult> {
  const codes = new Set(options.codes ?? errorCodes);
  const findings: Finding[] = [];
  for (const file of loadSources(options.root, boundaryCode)) {
    if (!startupOnly.test(file.path)) findings.push(...scanFile(file, codes));
  }
  const problems = findings.map(formatFinding);
  problems.push(...checkOpenApiExamples(options.root, codes));
  problems.push(...checkSdlCodes(options.root, codes));
  return { problems, notes: [] };
}

function scanFile(file: SourceFile, codes: ReadonlySet<string>): Finding[] {
  const catalog = 'a code from the error catalog (doc/errors.md)';
  return [
    ...scan(file, /\bthrow\s+(?:new\s+)?Error\s*\(/g, gate, () => `throw new Error(…): throw an AppError with ${catalog} (e.g. NotFound, Conflict, Validation from @gpuaas/errors)`),
    ...scan(file, /\bnew\s+GraphQLError\s*\(/g, gate, (match) => {
      const args = balancedArguments(file.code, match.index + match[0].length - 1);
      const code = /\bextensions\s*:\s*\{[\s\S]*?\bcode\s*:\s*(?:(['"`])([^'"`]*)\1|[A-Za-z_$][\w$.]*)/.exec(args);
      if (!code) return `new GraphQLError(…) without extensions.code: give it ${catalog}, or throw an AppError`;
      if (code[2] !== undefined && !codes.has(code[2])) return `new GraphQLError(…) with extensions.code '${code[2]}', which is not in the error catalog`;
      return undefined;
    }),
    ...scan(file, /\bnew\s+AppError\s*\(\s*(['"`])([^'"`]*)\1/g, gate, (match) =>
      codes.has(match[2]!) ? undefined : `new AppError('${match[2]}', …): '${match[2]}' is not in the error catalog`,
    ),
    ...(envelopeWriters.includes(file.path)
      ? []
      : scan(file, /\b\w+\s*\.\s*status\s*\(([^()]|\([^()]*\))*\)\s*\.\s*(json|send)\s*\(/g, gate, () =>
          `writes a response body directly (…status(…).json/send); return the result or throw an AppError so the envelope helpers (${envelopeWriters.join(', ')}) write it`,
        )),
  ];
}

/** Every `code` in an example of an error response (4xx, 5xx, default) must be a catalog code. */
function checkOpenApiExamples(root: string, codes: ReadonlySet<string>): string[] {
  const path = join(root, 'doc/api/openapi.yaml');
  if (!existsSync(path)) return [];
  const doc = readYamlFile(path) as JsonObject;
  const problems = new Set<string>();
  const check = (where: string, response: JsonObject) => {
    for (const [type, media] of mediaTypesOf(response)) {
      for (const example of examplesOf(doc, media)) {
        if (isObject(example) && typeof example['code'] === 'string' && !codes.has(example['code'])) {
          problems.add(`doc/api/openapi.yaml: ${where} (${type}) example has code '${example['code']}', which is not in the error catalog`);
        }
      }
    }
  };
  const components = isObject(doc['components']) ? doc['components'] : {};
  for (const [name, response] of Object.entries(isObject(components['responses']) ? components['responses'] : {})) {
    if (isObject(response)) check(`components.responses.${name}`, response);
  }
  for (const entry of listOperations(doc)) {
    const inline = isObject(entry.operation['responses']) ? entry.operation['responses'] : {};
    for (const [status, response] of responsesOf(doc, entry.operation)) {
      // referenced responses were checked once under components.responses
      if (isErrorStatus(status) && isObject(inline[status]) && !('$ref' in (inline[status] as JsonObject))) {
        check(`${entry.method.toUpperCase()} ${entry.path} response ${status}`, response);
      }
    }
  }
  return [...problems];
}

/** Error codes named in subgraph SDL descriptions or comments: `code: forbidden`, ``code `not_found` ``. */
function checkSdlCodes(root: string, codes: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const named = [/\bcode\b[`'"]?\s*(?:[:=]|is)?\s*[`'"]([a-z][a-z0-9_]*)[`'"]/g, /\bcode\s*[:=]\s*([a-z][a-z0-9_]*)\b/g];
  for (const dir of listDirs(join(root, 'subgraphs'))) {
    const path = join(dir, 'schema.graphql');
    if (!existsSync(path)) continue;
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.forEach((line, index) => {
      for (const pattern of named) {
        for (const match of line.matchAll(pattern)) {
          if (!codes.has(match[1]!)) problems.push(`${repoPath(root, path)}:${index + 1}: names error code '${match[1]}', which is not in the error catalog`);
        }
      }
    });
  }
  return [...new Set(problems)];
}

if (isMain(import.meta.url)) await runGateCli(gate, () => checkCanonicalErrors({ root: toolsRoot }));

/**
 * Runs every CI gate in order, each in its own process, continuing past failures so one run shows every problem,
 * then prints a summary table (gate, result, seconds) and exits 1 if any gate failed.
 *   npx tsx scripts/ci/run-gates.ts                 all gates (`npm run gates`)
 *   npx tsx scripts/ci/run-gates.ts codegen_fresh    only the named gates
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isMain } from './lib/gate.js';
import { toolsRoot } from './lib/repo.js';

export interface GateSpec {
  readonly name: string;
  /** Repo-relative TypeScript entry point, run with tsx. */
  readonly script: string;
  readonly args?: readonly string[];
}

export const gates: readonly GateSpec[] = [
  { name: 'bundle_fresh', script: 'scripts/bundle-contracts.ts', args: ['--check'] },
  { name: 'contracts_validate', script: 'scripts/ci/contracts_validate.ts' },
  { name: 'contracts_breaking_change', script: 'scripts/ci/contracts_breaking_change.ts' },
  { name: 'canonical_error_guard', script: 'scripts/ci/canonical_error_guard.ts' },
  { name: 'audit_mandatory_guard', script: 'scripts/ci/audit_mandatory_guard.ts' },
  { name: 'observability_trace_gate', script: 'scripts/ci/observability_trace_gate.ts' },
  { name: 'codegen_fresh', script: 'scripts/ci/codegen_fresh.ts' },
  { name: 'schema_drift', script: 'scripts/ci/schema_drift.ts' },
];

export interface GateOutcome {
  readonly name: string;
  readonly result: 'passed' | 'FAILED' | 'MISSING';
  readonly seconds: number;
}

function runScript(root: string, spec: GateSpec): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(join(toolsRoot, 'node_modules/.bin/tsx'), [spec.script, ...(spec.args ?? [])], { cwd: root, stdio: 'inherit' });
    child.once('error', () => resolve(1));
    child.once('close', (code) => resolve(code ?? 1));
  });
}

export async function runGates(root: string, specs: readonly GateSpec[], log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<GateOutcome[]> {
  const outcomes: GateOutcome[] = [];
  for (const spec of specs) {
    log(`\n── ${spec.name}`);
    const started = performance.now();
    let result: GateOutcome['result'];
    if (!existsSync(join(root, spec.script))) {
      log(`${spec.script} does not exist`);
      result = 'MISSING';
    } else {
      result = (await runScript(root, spec)) === 0 ? 'passed' : 'FAILED';
    }
    outcomes.push({ name: spec.name, result, seconds: (performance.now() - started) / 1000 });
  }
  log(`\n${summaryTable(outcomes)}`);
  return outcomes;
}

export function summaryTable(outcomes: readonly GateOutcome[]): string {
  const width = Math.max(4, ...outcomes.map((o) => o.name.length));
  const rows = outcomes.map((o) => `${o.name.padEnd(width)}  ${o.result.padEnd(7)}  ${o.seconds.toFixed(1).padStart(7)}`);
  const failed = outcomes.filter((o) => o.result !== 'passed').length;
  return [
    `${'gate'.padEnd(width)}  ${'result'.padEnd(7)}  ${'seconds'.padStart(7)}`,
    `${'-'.repeat(width)}  -------  -------`,
    ...rows,
    failed === 0 ? `all ${outcomes.length} gates passed` : `${failed} of ${outcomes.length} gates failed`,
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !gates.some((g) => g.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown gate(s): ${unknown.join(', ')}; known: ${gates.map((g) => g.name).join(', ')}\n`);
    process.exit(2);
  }
  const outcomes = await runGates(toolsRoot, only.length === 0 ? gates : gates.filter((g) => only.includes(g.name)));
  if (outcomes.some((o) => o.result !== 'passed')) process.exitCode = 1;
}

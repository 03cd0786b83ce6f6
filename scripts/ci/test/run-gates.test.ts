import { afterEach, describe, expect, it } from 'vitest';
import { gates, runGates } from '../run-gates.js';
import { createTempRepo, type TempRepo } from '../lib/temp-repo.js';

let repo: TempRepo | undefined;
afterEach(() => repo?.remove());

describe('run-gates', { timeout: 60_000 }, () => {
  it('runs every gate even after one fails, and summarises each result', async () => {
    repo = createTempRepo({
      'gates/fails.ts': "console.error('planted failure'); process.exit(1);\n",
      'gates/passes.ts': "import { writeFileSync } from 'node:fs';\nwriteFileSync('ran.txt', process.argv.slice(2).join(' '));\n",
    });
    const lines: string[] = [];
    const outcomes = await runGates(
      repo.root,
      [
        { name: 'first', script: 'gates/fails.ts' },
        { name: 'second', script: 'gates/missing.ts' },
        { name: 'third', script: 'gates/passes.ts', args: ['--check'] },
      ],
      (line) => lines.push(line),
    );
    expect(outcomes.map((o) => [o.name, o.result])).toEqual([
      ['first', 'FAILED'],
      ['second', 'MISSING'],
      ['third', 'passed'],
    ]);
    expect(repo.read('ran.txt')).toBe('--check');
    const summary = lines.at(-1)!;
    expect(summary).toMatch(/^\s*gate\s+result\s+seconds\n/);
    expect(summary).toMatch(/\nfirst\s+FAILED\s+\d+\.\d\n/);
    expect(summary).toMatch(/2 of 3 gates failed$/);
  });

  it('lists the gates in the documented order, schema drift included', () => {
    expect(gates.map((g) => g.name)).toEqual([
      'bundle_fresh',
      'contracts_validate',
      'contracts_breaking_change',
      'canonical_error_guard',
      'audit_mandatory_guard',
      'observability_trace_gate',
      'codegen_fresh',
      'schema_drift',
    ]);
  });
});

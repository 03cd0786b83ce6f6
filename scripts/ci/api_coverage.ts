/**
 * Which contract operations the REST adapter serves. Prints every operation with no registered handler,
 * grouped by tag, and the totals. It informs and never gates: the exit code is 0 whatever the coverage.
 * `--json` prints the report as JSON; `--contract <path>` reads another bundled contract.
 */
import { parseArgs } from 'node:util';
import { loadContract, type ContractOperation } from '@gpuaas/rest-adapter/contract';
import { defaultOperationRegistry, domainRouteOperationIds } from '@gpuaas/rest-adapter/operations';

export interface MissingOperation {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
}

export interface TagCoverage {
  readonly tag: string;
  readonly implemented: number;
  readonly total: number;
  readonly missing: readonly MissingOperation[];
}

export interface ApiCoverage {
  readonly total: number;
  readonly implemented: number;
  readonly notImplemented: number;
  /** One entry per primary (first) tag, in tag order; an operation without tags is under `untagged`. */
  readonly tags: readonly TagCoverage[];
}

/** Counts each operation once, under its first tag; `registry` is anything that knows which ids are served. */
export function apiCoverage(operations: readonly ContractOperation[], registry: { has(operationId: string): boolean }): ApiCoverage {
  const byTag = new Map<string, { implemented: number; total: number; missing: MissingOperation[] }>();
  for (const operation of operations) {
    const tag = operation.tags[0] ?? 'untagged';
    const entry = byTag.get(tag) ?? { implemented: 0, total: 0, missing: [] };
    byTag.set(tag, entry);
    entry.total += 1;
    if (registry.has(operation.operationId)) entry.implemented += 1;
    else entry.missing.push({ operationId: operation.operationId, method: operation.method.toUpperCase(), path: operation.path });
  }
  const tags = [...byTag.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([tag, entry]) => ({ tag, ...entry }));
  const implemented = tags.reduce((sum, tag) => sum + tag.implemented, 0);
  return { total: operations.length, implemented, notImplemented: operations.length - implemented, tags };
}

export function formatCoverage(coverage: ApiCoverage): string {
  const lines: string[] = [];
  for (const tag of coverage.tags) {
    if (tag.missing.length === 0) continue;
    lines.push(`${tag.tag}: ${tag.implemented} / ${tag.total} implemented`);
    for (const missing of tag.missing) lines.push(`  ${missing.method.padEnd(6)} ${missing.path}  ${missing.operationId}`);
    lines.push('');
  }
  lines.push(`implemented ${coverage.implemented} / ${coverage.total}, not implemented ${coverage.notImplemented}`);
  return `${lines.join('\n')}\n`;
}

function main(): void {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, contract: { type: 'string' } } });
  const contract = loadContract(values.contract);
  const served = defaultOperationRegistry();
  const domainRoutes = new Set<string>(domainRouteOperationIds);
  const coverage = apiCoverage(contract.operations, { has: (operationId) => served.has(operationId) || domainRoutes.has(operationId) });
  process.stdout.write(values.json ? `${JSON.stringify(coverage, null, 2)}\n` : formatCoverage(coverage));
}

if (import.meta.url === `file://${process.argv[1]}`) main();

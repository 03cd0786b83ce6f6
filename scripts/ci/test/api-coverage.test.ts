import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadContract } from '@gpuaas/rest-adapter/contract';
import { createOperationRegistry, defaultOperationRegistry, type OperationHandler, type OperationId } from '@gpuaas/rest-adapter/operations';
import { apiCoverage, formatCoverage, type ApiCoverage } from '../api_coverage.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../api_coverage.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const served: OperationHandler = async () => ({ status: 200 });
const contract = loadContract();

const scratch = mkdtempSync(join(tmpdir(), 'api-coverage-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sumOf(coverage: ApiCoverage, pick: (tag: ApiCoverage['tags'][number]) => number): number {
  return coverage.tags.reduce((sum, tag) => sum + pick(tag), 0);
}

describe('api coverage of the contract', () => {
  it('accounts for every contract operation exactly once', () => {
    const coverage = apiCoverage(contract.operations, defaultOperationRegistry());

    expect(coverage.total).toBe(contract.operations.length);
    expect(coverage.implemented + coverage.notImplemented).toBe(coverage.total);
    expect(sumOf(coverage, (tag) => tag.total)).toBe(coverage.total);
    expect(sumOf(coverage, (tag) => tag.implemented)).toBe(coverage.implemented);
    expect(sumOf(coverage, (tag) => tag.missing.length)).toBe(coverage.notImplemented);
    const missingIds = coverage.tags.flatMap((tag) => tag.missing.map((m) => m.operationId));
    expect(new Set(missingIds).size).toBe(missingIds.length);
  });

  it('counts an operation with a registered handler as implemented', () => {
    const [first, second] = contract.operations;
    const before = apiCoverage(contract.operations, createOperationRegistry());
    const registry = createOperationRegistry().register(first!.operationId as OperationId, served).register(second!.operationId as OperationId, served);
    const after = apiCoverage(contract.operations, registry);

    expect(before.implemented).toBe(0);
    expect(after.implemented).toBe(2);
    expect(after.notImplemented).toBe(contract.operations.length - 2);
    const missingIds = after.tags.flatMap((tag) => tag.missing.map((m) => m.operationId));
    expect(missingIds).not.toContain(first!.operationId);
    expect(missingIds).not.toContain(second!.operationId);
  });

  it('groups the missing operations under their first tag and prints the totals', () => {
    const operations = [
      { operationId: 'listThings', method: 'get', path: '/api/v1/things', tags: ['things', 'admin'] },
      { operationId: 'createThing', method: 'post', path: '/api/v1/things', tags: ['things'] },
      { operationId: 'ping', method: 'get', path: '/internal/v1/ping', tags: [] },
    ].map((o) => ({ ...o, method: o.method as 'get' | 'post', security: [], requestContentTypes: [], queryParameterNames: [] }));

    const coverage = apiCoverage(operations, { has: (operationId) => operationId === 'createThing' });

    expect(coverage).toEqual({
      total: 3,
      implemented: 1,
      notImplemented: 2,
      tags: [
        { tag: 'things', implemented: 1, total: 2, missing: [{ operationId: 'listThings', method: 'GET', path: '/api/v1/things' }] },
        { tag: 'untagged', implemented: 0, total: 1, missing: [{ operationId: 'ping', method: 'GET', path: '/internal/v1/ping' }] },
      ],
    });
    expect(formatCoverage(coverage)).toBe(
      'things: 1 / 2 implemented\n  GET    /api/v1/things  listThings\n\nuntagged: 0 / 1 implemented\n  GET    /internal/v1/ping  ping\n\nimplemented 1 / 3, not implemented 2\n',
    );
  });

  it('runs as a script that informs and exits 0, with --json for machines', async () => {
    const fixture = join(scratch, 'openapi.yaml');
    writeFileSync(
      fixture,
      [
        'openapi: 3.1.0',
        'info: { title: t, version: "1" }',
        'paths:',
        '  /api/v1/a: { get: { operationId: getA, tags: [alpha], responses: { "200": { description: ok } } } }',
        '  /api/v1/b: { post: { operationId: makeB, tags: [beta], responses: { "201": { description: ok } } } }',
      ].join('\n'),
    );

    const [json, text] = await Promise.all([
      run(process.execPath, ['--import', 'tsx', script, '--json', '--contract', fixture], { cwd: repoRoot }),
      run(process.execPath, ['--import', 'tsx', script, '--contract', fixture], { cwd: repoRoot }),
    ]);

    expect(JSON.parse(json.stdout)).toMatchObject({ total: 2, implemented: 0, notImplemented: 2 });
    expect(text.stdout).toContain('alpha: 0 / 1 implemented');
    expect(text.stdout).toContain('  POST   /api/v1/b  makeB');
    expect(text.stdout.trimEnd().split('\n').at(-1)).toBe('implemented 0 / 2, not implemented 2');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { checkCanonicalErrors } from '../canonical_error_guard.js';
import { createTempRepo, plantSampleOpenApi, sampleOpenApiRoot, type TempRepo } from '../lib/temp-repo.js';
import type { JsonObject } from '../lib/repo.js';

const cleanResolver = `
import { GraphQLError } from 'graphql';
import { AppError, NotFound } from '@gpuaas/errors';
// a comment may say throw new Error('x') without tripping the gate
export async function user(id: string) {
  if (!id) throw new GraphQLError('no id', { extensions: { code: 'validation_error' } });
  if (id === 'taken') throw new AppError('already_exists', 'taken');
  throw NotFound('User');
}
`;

let repo: TempRepo | undefined;
afterEach(() => repo?.remove());

async function guardWith(files: Record<string, string>) {
  repo = createTempRepo({ 'subgraphs/access/src/resolvers/user.ts': cleanResolver, 'subgraphs/access/schema.graphql': 'type Query { me: String }\n', ...files });
  return checkCanonicalErrors({ root: repo.root });
}

describe('canonical_error_guard', () => {
  it('passes code that only throws catalog errors', async () => {
    const result = await guardWith({});
    expect(result.problems).toEqual([]);
  });

  it('flags throw new Error in a subgraph resolver', async () => {
    const result = await guardWith({ 'subgraphs/access/src/resolvers/bad.ts': "export function f() {\n  throw new Error('boom');\n}\n" });
    expect(result.problems).toEqual([expect.stringMatching(/^subgraphs\/access\/src\/resolvers\/bad\.ts:2: throw new Error/)]);
  });

  it('flags a GraphQLError without extensions.code', async () => {
    const result = await guardWith({ 'gateway/src/limits.ts': "import { GraphQLError } from 'graphql';\nexport const e = new GraphQLError('too deep', { path: ['x'] });\n" });
    expect(result.problems).toEqual([expect.stringMatching(/^gateway\/src\/limits\.ts:2: new GraphQLError\(…\) without extensions\.code/)]);
  });

  it('flags a GraphQLError whose code is not in the catalog', async () => {
    const result = await guardWith({ 'gateway/src/limits.ts': "export const e = new GraphQLError('too deep', { extensions: { code: 'TOO_DEEP' } });\n" });
    expect(result.problems).toEqual([expect.stringContaining("extensions.code 'TOO_DEEP', which is not in the error catalog")]);
  });

  it('flags an AppError with a code that is not in the catalog', async () => {
    const result = await guardWith({ 'workers/src/billing/charge.ts': "throw new AppError('payment_failed' as never, 'declined');\n" });
    expect(result.problems).toEqual([expect.stringContaining("workers/src/billing/charge.ts:1: new AppError('payment_failed', …)")]);
  });

  it('flags a response written outside the envelope helpers', async () => {
    const result = await guardWith({ 'rest-adapter/src/operations/access/index.ts': "export const h = (res: any) => res.status(404).json({ error: 'nope' });\n" });
    expect(result.problems).toEqual([expect.stringContaining('rest-adapter/src/operations/access/index.ts:1: writes a response body directly')]);
  });

  it('lets the envelope helper write responses', async () => {
    const result = await guardWith({ 'rest-adapter/src/http/dispatch.ts': 'export const send = (res: any, status: number, body: unknown) => res.status(status).json(body);\n' });
    expect(result.problems).toEqual([]);
  });

  it('accepts a line that says why it may break the rule', async () => {
    const result = await guardWith({
      'gateway/src/boot.ts': "// ci-allow canonical_error_guard: start-up misconfiguration, before any request\nthrow new Error('no supergraph');\n",
    });
    expect(result.problems).toEqual([]);
  });

  it('flags an OpenAPI error example whose code is not in the catalog', async () => {
    repo = createTempRepo({ 'subgraphs/access/src/resolvers/user.ts': cleanResolver });
    const root = sampleOpenApiRoot();
    const responses = (root['components'] as JsonObject)['responses'] as Record<string, JsonObject>;
    const content = responses['NotFound']!['content'] as Record<string, JsonObject>;
    content['application/json']!['example'] = { code: 'NOT_FOUND', message: 'x', correlation_id: 'c' };
    plantSampleOpenApi(repo);
    repo.write('doc/api/openapi/_root.yaml', root);
    repo.bundle('openapi');
    const result = await checkCanonicalErrors({ root: repo.root });
    expect(result.problems).toEqual([expect.stringContaining("components.responses.NotFound (application/json) example has code 'NOT_FOUND'")]);
  });

  it('flags an SDL description naming a code that is not in the catalog', async () => {
    const result = await guardWith({
      'subgraphs/access/schema.graphql': '"""Fails with code `user_gone` when the user was deleted."""\ntype Query { me: String }\n',
    });
    expect(result.problems).toEqual([expect.stringContaining("subgraphs/access/schema.graphql:1: names error code 'user_gone'")]);
  });
});

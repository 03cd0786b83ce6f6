import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { depthLimitRule } from '../src/depth-limit.js';

const schema = buildSchema(`
  type Node { id: ID! child: Node }
  type Query { root: Node }
`);

function depthErrors(query: string, maxDepth: number) {
  return validate(schema, parse(query), [depthLimitRule(maxDepth)]);
}

describe('depthLimitRule', () => {
  it('allows an operation at the limit and refuses one level more', () => {
    expect(depthErrors('{ root { child { id } } }', 3)).toEqual([]);
    const [error, ...rest] = depthErrors('{ root { child { child { id } } } }', 3);
    expect(rest).toEqual([]);
    expect(error?.originalError).toBeInstanceOf(AppError);
    expect((error?.originalError as AppError).code).toBe('query_too_complex');
    expect((error?.originalError as AppError).details).toEqual({ max_depth: 3, depth: 4 });
  });

  it('counts fields reached through named and inline fragments', () => {
    const query = `
      query { root { ...Deep } }
      fragment Deep on Node { child { ... on Node { child { id } } } }
    `;
    expect(depthErrors(query, 4)).toEqual([]);
    expect(depthErrors(query, 3)).toHaveLength(1);
  });

  it('measures each operation in a document on its own', () => {
    const errors = depthErrors('query Shallow { root { id } } query Deep { root { child { child { id } } } }', 2);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.nodes?.[0]).toMatchObject({ kind: 'OperationDefinition', name: { value: 'Deep' } });
  });

  it('does not count introspection fields', () => {
    expect(depthErrors('{ __schema { types { fields { type { ofType { ofType { name } } } } } } }', 1)).toEqual([]);
  });

  it('terminates on fragment cycles and leaves reporting them to the standard rules', () => {
    const query = `
      query { root { ...A } }
      fragment A on Node { child { ...B } }
      fragment B on Node { child { ...A } }
    `;
    expect(depthErrors(query, 10)).toEqual([]);
  });
});

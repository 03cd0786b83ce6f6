import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIST_SIZE, operationCost } from '../src/index.js';

const schema = buildSchema(`
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type Project { id: ID! name: String! tags: [String!]! members: [Member!]! }
  type Member { id: ID! name: String! }
  type ProjectEdge { cursor: String! node: Project! }
  type ProjectConnection { edges: [ProjectEdge!]! pageInfo: PageInfo! }
  type User { id: ID! projects(first: Int, after: String): ProjectConnection! }
  type Query { me: User! items(first: Int): [Project!]! }
`);

function cost(query: string, variables?: Record<string, unknown>): number {
  const document = parse(query);
  const operation = document.definitions.find((definition) => definition.kind === 'OperationDefinition') as OperationDefinitionNode;
  return operationCost(schema, document, operation, variables);
}

describe('operationCost', () => {
  it('counts one per field', () => {
    expect(cost('{ me { id } }')).toBe(2);
  });

  it('multiplies what a paginated field selects by its first argument, or 50 when absent', () => {
    expect(cost('{ items(first: 10) { id name } }')).toBe(1 + 10 * 2);
    expect(cost('{ items { id name } }')).toBe(1 + DEFAULT_LIST_SIZE * 2);
  });

  it('counts a connection once, not again on its edges', () => {
    // me(1) + projects(1 + 5 × (edges(1 + node(1 + id)) + pageInfo(1 + hasNextPage)))
    expect(cost('{ me { projects(first: 5) { edges { node { id } } pageInfo { hasNextPage } } } }')).toBe(1 + 1 + 5 * (3 + 2));
  });

  it('multiplies plain lists without a page argument by 50', () => {
    expect(cost('{ items(first: 1) { members { id name } } }')).toBe(1 + 1 * (1 + DEFAULT_LIST_SIZE * 2));
  });

  it('reads first from variables, then from the variable default', () => {
    expect(cost('query($n: Int) { items(first: $n) { id } }', { n: 400 })).toBe(401);
    expect(cost('query($n: Int = 7) { items(first: $n) { id } }')).toBe(8);
    expect(cost('query($n: Int) { items(first: $n) { id } }')).toBe(1 + DEFAULT_LIST_SIZE);
  });

  it('counts fields reached through fragments and leaves introspection free', () => {
    expect(cost('{ items(first: 2) { ...P } } fragment P on Project { id ... on Project { name } }')).toBe(1 + 2 * 2);
    expect(cost('{ __schema { types { fields { name } } } __typename }')).toBe(0);
  });

  it('grows multiplicatively with nested pages, which is what the limit is for', () => {
    const nested = '{ items(first: 100) { members { id } } }';
    expect(cost(nested)).toBe(1 + 100 * (1 + 50));
  });
});

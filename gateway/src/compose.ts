import { composeServices } from '@apollo/composition';
import { printSchema, Supergraph } from '@apollo/federation-internals';
import { parse, type DocumentNode } from 'graphql';

export interface SubgraphDefinition {
  name: string;
  typeDefs: string | DocumentNode;
  /** Omitted: a placeholder the gateway replaces from its config (`buildService`). */
  url?: string;
}

export class CompositionError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Supergraph composition failed:\n  - ${problems.join('\n  - ')}`);
    this.name = 'CompositionError';
  }
}

/** The URL written into the checked-in supergraph; `.invalid` can never resolve, so a missed override fails loudly. */
export function placeholderUrl(name: string): string {
  return `http://${name}.invalid/graphql`;
}

/** Composes Federation 2 subgraphs into supergraph SDL; throws `CompositionError` listing every problem. */
export function composeSupergraph(subgraphs: readonly SubgraphDefinition[]): string {
  const result = composeServices(
    subgraphs.map((subgraph) => ({
      name: subgraph.name,
      url: subgraph.url ?? placeholderUrl(subgraph.name),
      typeDefs: typeof subgraph.typeDefs === 'string' ? parse(subgraph.typeDefs) : subgraph.typeDefs,
    })),
  );
  if (result.errors) {
    throw new CompositionError(result.errors.map((error) => (error.extensions['code'] ? `[${String(error.extensions['code'])}] ${error.message}` : error.message)));
  }
  return result.supergraphSdl;
}

/**
 * The client-facing schema of a supergraph (federation directives and join types removed), as SDL. Printed by
 * federation's own printer: handing its graphql-js schema to another copy of `graphql` (ESM vs CJS) would throw.
 */
export function apiSchemaSdl(supergraphSdl: string): string {
  return printSchema(Supergraph.build(supergraphSdl).apiSchema());
}

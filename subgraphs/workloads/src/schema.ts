import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type DocumentNode } from 'graphql';

/** The workloads subgraph's SDL; the supergraph is composed from this file (scripts/compose-supergraph.ts). */
export const typeDefsPath = fileURLToPath(new URL('../schema.graphql', import.meta.url));

export function loadTypeDefs(): DocumentNode {
  return parse(readFileSync(typeDefsPath, 'utf8'));
}

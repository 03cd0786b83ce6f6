import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A subgraph's SDL: `schema.graphql` followed by every `schema/*.graphql` in name order. Large domains keep one
 * file per area (catalog, nodes, allocations…) so the parts can change independently; composition, codegen and
 * the running subgraph all read the same concatenation. Undefined when the folder has no schema at all.
 */
export function readSubgraphSdl(subgraphDir: string): string | undefined {
  const parts: string[] = [];
  const main = join(subgraphDir, 'schema.graphql');
  if (existsSync(main)) parts.push(readFileSync(main, 'utf8'));
  const partsDir = join(subgraphDir, 'schema');
  if (existsSync(partsDir)) {
    for (const name of readdirSync(partsDir).filter((file) => file.endsWith('.graphql')).sort()) {
      parts.push(readFileSync(join(partsDir, name), 'utf8'));
    }
  }
  return parts.length === 0 ? undefined : parts.map((part) => part.trimEnd()).join('\n\n') + '\n';
}

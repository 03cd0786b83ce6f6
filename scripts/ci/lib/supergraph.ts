import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { composeApiSchemaSdl as composeApi, composeSupergraphSdl as composeSupergraph } from '../../compose-supergraph.js';
import { listDirs } from './repo.js';

function hasSubgraphSchemas(root: string): boolean {
  return listDirs(join(root, 'subgraphs')).some((dir) => existsSync(join(dir, 'schema.graphql')));
}

/** gateway/supergraph.graphql exactly as scripts/compose-supergraph.ts writes it; undefined when there are no subgraphs. */
export async function composeSupergraphSdl(root: string): Promise<string | undefined> {
  return hasSubgraphSchemas(root) ? composeSupergraph(root) : undefined;
}

/** The composed supergraph's client-facing API schema; undefined when there are no subgraphs. */
export async function composeApiSchemaSdl(root: string): Promise<string | undefined> {
  return hasSubgraphSchemas(root) ? composeApi(root) : undefined;
}

import { fileURLToPath } from 'node:url';
import { parse, type DocumentNode } from 'graphql';
import { readSubgraphSdl } from '@gpuaas/service-kit';

/** The billing subgraph's folder: its SDL is `schema.graphql` plus `schema/*.graphql` (see readSubgraphSdl). */
export const subgraphDir = fileURLToPath(new URL('..', import.meta.url));

export function loadTypeDefs(): DocumentNode {
  return parse(readSubgraphSdl(subgraphDir) ?? '');
}

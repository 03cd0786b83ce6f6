import { NotImplemented } from '@gpuaas/errors';

/** The Node entity: other subgraphs reference it by id and the gateway resolves it here. */
export const Node = {
  __resolveReference: () => {
    throw NotImplemented('Node reference');
  },
};

import { NotImplemented } from '@gpuaas/errors';

/** The Allocation entity: other subgraphs reference it by id and the gateway resolves it here. */
export const Allocation = {
  __resolveReference: () => {
    throw NotImplemented('Allocation reference');
  },
};

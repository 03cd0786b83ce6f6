import { NotImplemented } from '@gpuaas/errors';

/** The Region entity: other subgraphs reference it by id and the gateway resolves it here. */
export const Region = {
  __resolveReference: () => {
    throw NotImplemented('Region reference');
  },
};

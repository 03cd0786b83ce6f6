import { NotImplemented } from '@gpuaas/errors';

/** The Volume entity: other subgraphs reference it by id and the gateway resolves it here. */
export const Volume = {
  __resolveReference: () => {
    throw NotImplemented('Volume reference');
  },
};

import { NotImplemented } from '@gpuaas/errors';

/** The Refund entity: other subgraphs reference it by id and the gateway resolves it here. */
export const Refund = {
  __resolveReference: () => {
    throw NotImplemented('Refund reference');
  },
};

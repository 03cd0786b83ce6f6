import { NotImplemented } from '@gpuaas/errors';

/** The Wallet entity: other subgraphs reference it by id and the gateway resolves it here. */
export const Wallet = {
  __resolveReference: () => {
    throw NotImplemented('Wallet reference');
  },
};

import { NotImplemented } from '@gpuaas/errors';

/** The LedgerEntry entity: other subgraphs reference it by id and the gateway resolves it here. */
export const LedgerEntry = {
  __resolveReference: () => {
    throw NotImplemented('LedgerEntry reference');
  },
};

import { NotImplemented } from '@gpuaas/errors';

/** The Runbook entity: other subgraphs reference it by id and the gateway resolves it here. */
export const Runbook = {
  __resolveReference: () => {
    throw NotImplemented('Runbook reference');
  },
};

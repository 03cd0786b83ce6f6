import { NotImplemented } from '@gpuaas/errors';

/** The AppTemplate entity: other subgraphs reference it by id and the gateway resolves it here. */
export const AppTemplate = {
  __resolveReference: () => {
    throw NotImplemented('AppTemplate reference');
  },
};

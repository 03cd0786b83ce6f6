import { NotImplemented } from '@gpuaas/errors';

/** The AppInstance entity: other subgraphs reference it by id and the gateway resolves it here. */
export const AppInstance = {
  __resolveReference: () => {
    throw NotImplemented('AppInstance reference');
  },
};

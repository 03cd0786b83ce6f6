import { NotImplemented } from '@gpuaas/errors';

/** The OsImage entity: other subgraphs reference it by id and the gateway resolves it here. */
export const OsImage = {
  __resolveReference: () => {
    throw NotImplemented('OsImage reference');
  },
};

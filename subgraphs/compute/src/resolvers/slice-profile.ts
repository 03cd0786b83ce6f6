import { NotImplemented } from '@gpuaas/errors';

/** The SliceProfile entity: other subgraphs reference it by id and the gateway resolves it here. */
export const SliceProfile = {
  __resolveReference: () => {
    throw NotImplemented('SliceProfile reference');
  },
};

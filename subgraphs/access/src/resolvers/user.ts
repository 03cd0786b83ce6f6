import { NotImplemented } from '@gpuaas/errors';

/** The User entity: other subgraphs reference it by id and the gateway resolves it here. */
export const User = {
  __resolveReference: () => {
    throw NotImplemented('User reference');
  },
};

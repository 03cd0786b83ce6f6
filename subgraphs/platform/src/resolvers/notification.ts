import { NotImplemented } from '@gpuaas/errors';

/** The Notification entity: other subgraphs reference it by id and the gateway resolves it here. */
export const Notification = {
  __resolveReference: () => {
    throw NotImplemented('Notification reference');
  },
};

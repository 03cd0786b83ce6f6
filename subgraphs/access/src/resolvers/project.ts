import { NotImplemented } from '@gpuaas/errors';

/** The Project entity: other subgraphs reference it by id and the gateway resolves it here. */
export const Project = {
  __resolveReference: () => {
    throw NotImplemented('Project reference');
  },
};

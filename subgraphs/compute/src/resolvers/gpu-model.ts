import { NotImplemented } from '@gpuaas/errors';

/** The GpuModel entity: other subgraphs reference it by id and the gateway resolves it here. */
export const GpuModel = {
  __resolveReference: () => {
    throw NotImplemented('GpuModel reference');
  },
};

import { NotImplemented } from '@gpuaas/errors';

/** Root mutations; each takes one `input` argument. */
export const Mutation = {
  requestAllocation: () => {
    throw NotImplemented('Mutation.requestAllocation');
  },
  releaseAllocation: () => {
    throw NotImplemented('Mutation.releaseAllocation');
  },
  adminDrainNode: () => {
    throw NotImplemented('Mutation.adminDrainNode');
  },
};

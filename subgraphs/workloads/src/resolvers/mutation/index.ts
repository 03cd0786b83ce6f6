import { NotImplemented } from '@gpuaas/errors';

/** Root mutations; each takes one `input` argument. */
export const Mutation = {
  createVolume: () => {
    throw NotImplemented('Mutation.createVolume');
  },
  deleteVolume: () => {
    throw NotImplemented('Mutation.deleteVolume');
  },
  launchApp: () => {
    throw NotImplemented('Mutation.launchApp');
  },
  stopApp: () => {
    throw NotImplemented('Mutation.stopApp');
  },
};

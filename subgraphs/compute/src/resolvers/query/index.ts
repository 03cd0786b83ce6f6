import { NotImplemented } from '@gpuaas/errors';

/** Root query fields; each stub turns into a thin resolver over a service when its domain issue lands. */
export const Query = {
  gpuModels: () => {
    throw NotImplemented('Query.gpuModels');
  },
  sliceProfiles: () => {
    throw NotImplemented('Query.sliceProfiles');
  },
  regions: () => {
    throw NotImplemented('Query.regions');
  },
  allocation: () => {
    throw NotImplemented('Query.allocation');
  },
  allocations: () => {
    throw NotImplemented('Query.allocations');
  },
  node: () => {
    throw NotImplemented('Query.node');
  },
  nodes: () => {
    throw NotImplemented('Query.nodes');
  },
};

import { NotImplemented } from '@gpuaas/errors';

/** Root query fields; each stub turns into a thin resolver over a service when its domain issue lands. */
export const Query = {
  volume: () => {
    throw NotImplemented('Query.volume');
  },
  volumes: () => {
    throw NotImplemented('Query.volumes');
  },
  appTemplate: () => {
    throw NotImplemented('Query.appTemplate');
  },
  appTemplates: () => {
    throw NotImplemented('Query.appTemplates');
  },
  appInstance: () => {
    throw NotImplemented('Query.appInstance');
  },
  appInstances: () => {
    throw NotImplemented('Query.appInstances');
  },
};

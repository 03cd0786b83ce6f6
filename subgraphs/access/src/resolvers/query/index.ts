import { NotImplemented } from '@gpuaas/errors';

/** Root query fields; each stub turns into a thin resolver over a service when its domain issue lands. */
export const Query = {
  me: () => {
    throw NotImplemented('Query.me');
  },
  user: () => {
    throw NotImplemented('Query.user');
  },
  users: () => {
    throw NotImplemented('Query.users');
  },
  project: () => {
    throw NotImplemented('Query.project');
  },
  projects: () => {
    throw NotImplemented('Query.projects');
  },
};

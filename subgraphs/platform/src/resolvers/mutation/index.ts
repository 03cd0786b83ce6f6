import { NotImplemented } from '@gpuaas/errors';

/** Root mutations; each takes one `input` argument. */
export const Mutation = {
  markNotificationRead: () => {
    throw NotImplemented('Mutation.markNotificationRead');
  },
  adminCreateOsImage: () => {
    throw NotImplemented('Mutation.adminCreateOsImage');
  },
};

import { NotImplemented } from '@gpuaas/errors';
import { platformInfo } from './platform-info.js';
import { serverTime } from './server-time.js';
import { osImageQueries } from '../os-image-roots.js';
import { notificationQueries } from '../../notifications/resolvers.js';

/** Root query fields; each stub turns into a thin resolver over a service when its domain issue lands. */
export const Query = {
  platformInfo,
  serverTime,
  ...osImageQueries,
  auditLog: () => {
    throw NotImplemented('Query.auditLog');
  },
  runbooks: () => {
    throw NotImplemented('Query.runbooks');
  },
  runbook: () => {
    throw NotImplemented('Query.runbook');
  },
  ...notificationQueries,
};

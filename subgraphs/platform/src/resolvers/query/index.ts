import { NotImplemented } from '@gpuaas/errors';
import { platformInfo } from './platform-info.js';
import { serverTime } from './server-time.js';

/** Root query fields; each stub turns into a thin resolver over a service when its domain issue lands. */
export const Query = {
  platformInfo,
  serverTime,
  osImages: () => {
    throw NotImplemented('Query.osImages');
  },
  osImage: () => {
    throw NotImplemented('Query.osImage');
  },
  auditLog: () => {
    throw NotImplemented('Query.auditLog');
  },
  runbooks: () => {
    throw NotImplemented('Query.runbooks');
  },
  runbook: () => {
    throw NotImplemented('Query.runbook');
  },
  notifications: () => {
    throw NotImplemented('Query.notifications');
  },
};

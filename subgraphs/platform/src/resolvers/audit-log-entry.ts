import { NotImplemented } from '@gpuaas/errors';

/** The AuditLogEntry entity: other subgraphs reference it by id and the gateway resolves it here. */
export const AuditLogEntry = {
  __resolveReference: () => {
    throw NotImplemented('AuditLogEntry reference');
  },
};

import { dateTimeScalar, type GraphQLResolverMap } from '@gpuaas/service-kit';
import { Mutation } from './mutation/index.js';
import { Query } from './query/index.js';
import { OsImage } from './os-image.js';
import { AuditLogEntry } from './audit-log-entry.js';
import { Runbook } from './runbook.js';
import { Notification } from './notification.js';

export const resolvers: GraphQLResolverMap<object> = {
  DateTime: dateTimeScalar,
  Query,
  Mutation,
  OsImage,
  AuditLogEntry,
  Runbook,
  Notification,
};

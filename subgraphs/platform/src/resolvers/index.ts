import { dateTimeScalar, type GraphQLResolverMap } from '@gpuaas/service-kit';
import type { PlatformContext } from '../context.js';
import { Mutation } from './mutation/index.js';
import { Query } from './query/index.js';
import { OsImage } from './os-image.js';
import { AuditLogEntry } from './audit-log-entry.js';
import { Runbook } from './runbook.js';
import { Notification, notificationSubscriptions } from '../notifications/resolvers.js';

export const resolvers = {
  DateTime: dateTimeScalar,
  Query,
  Mutation,
  Subscription: notificationSubscriptions,
  OsImage,
  AuditLogEntry,
  Runbook,
  Notification,
} satisfies GraphQLResolverMap<PlatformContext>;

import type { MutationMarkNotificationReadArgs, QueryNotificationsArgs } from '../generated/resolvers-types.js';
import type { PlatformContext } from '../context.js';
import type { Page } from '../services/pagination.js';
import { severityOf } from './messages.js';
import type { NotificationRow } from './repository.js';
import { listMyNotifications, markMyNotificationRead, myNotification, streamMyNotifications } from './service.js';

const connection = (page: Page<NotificationRow>) => ({
  edges: page.items,
  pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
});

export const notificationQueries = {
  notifications: async (_: unknown, args: QueryNotificationsArgs, ctx: PlatformContext) => connection(await listMyNotifications(ctx.deps, ctx, args)),
};

export const notificationMutations = {
  markNotificationRead: (_: unknown, { input }: MutationMarkNotificationReadArgs, ctx: PlatformContext) => markMyNotificationRead(ctx.deps, ctx, input.id),
};

export const notificationSubscriptions = {
  notificationAdded: {
    subscribe: (_: unknown, _args: unknown, ctx: PlatformContext) => streamMyNotifications(ctx.deps, ctx),
    resolve: (row: NotificationRow) => row,
  },
};

/** The Notification entity; the stored kind decides its severity. */
export const Notification = {
  __resolveReference: (reference: { id: string }, ctx: PlatformContext) => myNotification(ctx.deps, ctx, reference.id),
  severity: (row: NotificationRow) => severityOf(row.kind).toUpperCase(),
};

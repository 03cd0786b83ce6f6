import { AppError, NotFound } from '@gpuaas/errors';
import type { SubgraphContext } from '@gpuaas/service-kit';
import type { PlatformDeps } from '../context.js';
import { requireUser } from '../services/caller.js';
import { pageRequest, toPage, type Page } from '../services/pagination.js';
import { isUuid } from '../services/validation.js';
import { onNotificationAdded } from './listener.js';
import { findNotification, listNotifications, markRead, type NotificationCursorKey, type NotificationRow } from './repository.js';
import { openQueuedStream } from './stream.js';

const notificationNotFound = () => NotFound('Notification');

function parseCursorKey(value: unknown): NotificationCursorKey | null {
  if (typeof value !== 'object' || value === null) return null;
  const { c, i } = value as { c?: unknown; i?: unknown };
  if (typeof c !== 'string' || Number.isNaN(Date.parse(c)) || typeof i !== 'string' || !isUuid(i)) return null;
  return { createdAt: c, id: i };
}

/** The caller's notifications, newest first; only ever the caller's own. */
export async function listMyNotifications(
  deps: PlatformDeps,
  caller: SubgraphContext,
  args: { readonly unreadOnly?: boolean | null; readonly first?: number | null; readonly after?: string | null },
): Promise<Page<NotificationRow>> {
  const userId = requireUser(caller);
  const page = pageRequest(args.first, args.after, parseCursorKey);
  const rows = await listNotifications(deps.pool, userId, { unreadOnly: args.unreadOnly ?? false, after: page.after, limit: page.first + 1 });
  return toPage(rows, page.first, (row) => ({ c: row.createdAtKey, i: row.id }));
}

/** Marks one of the caller's notifications read; another user's answers not_found, like a missing one. */
export async function markMyNotificationRead(deps: PlatformDeps, caller: SubgraphContext, id: string): Promise<NotificationRow> {
  const userId = requireUser(caller);
  if (!isUuid(id)) throw notificationNotFound();
  const row = await markRead(deps.pool, userId, id);
  if (!row) throw notificationNotFound();
  return row;
}

/** Resolves a federation reference for the caller only; another user's notification resolves to null. */
export async function myNotification(deps: PlatformDeps, caller: SubgraphContext, id: string): Promise<NotificationRow | null> {
  const { userId } = caller.identity;
  if (userId === null || !isUuid(id)) return null;
  return findNotification(deps.pool, userId, id);
}

/**
 * Each notification committed for the caller from now on, as it commits (any replica's relay may have written it).
 * If the process's LISTEN connection breaks, signals may have been missed: the stream ends with service_unavailable
 * so the console resubscribes (and re-reads the list) instead of silently going quiet.
 */
export function streamMyNotifications(deps: PlatformDeps, caller: SubgraphContext): Promise<AsyncIterableIterator<NotificationRow>> {
  const userId = requireUser(caller);
  return openQueuedStream(
    (push, fail) =>
      onNotificationAdded(deps.pool, deps.logger, userId, push, () => fail(new AppError('service_unavailable', 'Notification updates were interrupted; subscribe again'))),
    (id) => findNotification(deps.pool, userId, id),
  );
}

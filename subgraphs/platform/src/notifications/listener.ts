import type pg from 'pg';
import type { Logger } from '@gpuaas/telemetry';

/** The channel platform.notifications_notify() signals at commit, with `{id, user_id}` as payload. */
export const NOTIFICATION_CHANNEL = 'platform_notification_added';

type Listener = (notificationId: string) => void;
/** Called when the LISTEN connection broke: the subscriber may have missed signals and must end. */
type LostListener = (error: Error) => void;

interface Hub {
  readonly listeners: Map<string, Set<Listener>>;
  readonly lost: Set<LostListener>;
  client: Promise<pg.PoolClient> | undefined;
}

const hubs = new WeakMap<pg.Pool, Hub>();

function parseSignal(payload: string | undefined): { id: string; userId: string } | null {
  if (!payload) return null;
  try {
    const { id, user_id: userId } = JSON.parse(payload) as { id?: unknown; user_id?: unknown };
    return typeof id === 'string' && typeof userId === 'string' ? { id, userId } : null;
  } catch {
    return null;
  }
}

/**
 * Calls `listener` with the id of each notification committed for `userId`. One LISTEN connection per pool (so one
 * per process), held only while someone listens, fanned out here by recipient: a subscriber only ever hears about
 * its own user's notifications. Resolves once LISTEN is in place; returns the function that stops listening.
 */
export async function onNotificationAdded(
  pool: pg.Pool,
  logger: Logger,
  userId: string,
  listener: Listener,
  onLost: LostListener,
): Promise<() => Promise<void>> {
  let hub = hubs.get(pool);
  if (!hub) {
    hub = { listeners: new Map(), lost: new Set(), client: undefined };
    hubs.set(pool, hub);
  }
  const current = hub;
  current.lost.add(onLost);
  const set = current.listeners.get(userId) ?? new Set<Listener>();
  set.add(listener);
  current.listeners.set(userId, set);
  const connecting = (current.client ??= (async () => {
    const client = await pool.connect();
    client.on('notification', (message) => {
      if (message.channel !== NOTIFICATION_CHANNEL) return;
      const signal = parseSignal(message.payload);
      if (!signal) return;
      for (const notify of current.listeners.get(signal.userId) ?? []) notify(signal.id);
    });
    client.on('error', (error) => {
      logger.warn({ err: error }, 'notification listener connection failed; its subscriptions end so that clients resubscribe');
      if (current.client !== connecting) return;
      current.client = undefined;
      client.release(error);
      const lost = [...current.lost];
      current.lost.clear();
      current.listeners.clear();
      for (const end of lost) end(error);
    });
    await client.query(`LISTEN ${NOTIFICATION_CHANNEL}`);
    return client;
  })());
  try {
    await connecting;
  } catch (error) {
    if (current.client === connecting) current.client = undefined;
    set.delete(listener);
    current.lost.delete(onLost);
    throw error;
  }

  return async () => {
    set.delete(listener);
    current.lost.delete(onLost);
    if (set.size === 0 && current.listeners.get(userId) === set) current.listeners.delete(userId);
    if (current.listeners.size > 0 || !current.client) return;
    const held = current.client;
    current.client = undefined;
    const client = await held.catch(() => undefined);
    if (!client) return;
    await client.query(`UNLISTEN ${NOTIFICATION_CHANNEL}`).catch(() => undefined);
    client.release();
  };
}

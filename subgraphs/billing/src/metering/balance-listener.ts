import type pg from 'pg';
import type { Logger } from '@gpuaas/telemetry';

/** The channel billing.ledger_entries_notify() signals at commit, with the wallet id as payload. */
export const BALANCE_CHANNEL = 'billing_balance_changed';

type Listener = () => void;

interface Hub {
  readonly listeners: Map<string, Set<Listener>>;
  client: Promise<pg.PoolClient> | undefined;
}

const hubs = new WeakMap<pg.Pool, Hub>();

/**
 * Calls `listener` whenever a ledger entry on `walletId` commits (whoever booked it: metering, top-ups, refunds,
 * operators). One LISTEN connection per pool, held only while someone listens, so it never keeps a pool from
 * closing. Returns the function that stops listening.
 */
export async function onBalanceChanged(pool: pg.Pool, logger: Logger, walletId: string, listener: Listener): Promise<() => Promise<void>> {
  let hub = hubs.get(pool);
  if (!hub) {
    hub = { listeners: new Map(), client: undefined };
    hubs.set(pool, hub);
  }
  const current = hub;
  const set = current.listeners.get(walletId) ?? new Set<Listener>();
  set.add(listener);
  current.listeners.set(walletId, set);
  current.client ??= (async () => {
    const client = await pool.connect();
    client.on('notification', (message) => {
      if (message.channel !== BALANCE_CHANNEL || !message.payload) return;
      for (const notify of current.listeners.get(message.payload) ?? []) notify();
    });
    client.on('error', (error) => logger.warn({ err: error }, 'balance listener connection failed'));
    await client.query(`LISTEN ${BALANCE_CHANNEL}`);
    return client;
  })();
  await current.client;

  return async () => {
    set.delete(listener);
    if (set.size === 0) current.listeners.delete(walletId);
    if (current.listeners.size > 0 || !current.client) return;
    const held = current.client;
    current.client = undefined;
    const client = await held;
    await client.query(`UNLISTEN ${BALANCE_CHANNEL}`).catch(() => undefined);
    client.release();
  };
}

import pg from 'pg';
import type { Registry } from 'prom-client';
import { publishEvent, type EventEnvelope, type JetStreamClient } from '@gpuaas/events';
import type { Logger } from '@gpuaas/telemetry';
import { registerRelayMetrics, type RelayMetrics } from './relay-metrics.js';

export const OUTBOX_CHANNEL = 'infra_outbox';

export interface OutboxRelayOptions {
  /** The relay uses (and never ends) this pool; or give `databaseUrl` and it owns a small pool of its own. */
  pool?: pg.Pool;
  databaseUrl?: string;
  js: JetStreamClient;
  namespace: string;
  logger: Logger;
  batchSize?: number;
  /** Sweep interval when no NOTIFY arrives: a lost notification (or a dropped LISTEN connection) only delays. */
  pollIntervalMs?: number;
  /** How long one publish may wait for its JetStream ack; row locks are held meanwhile. */
  publishTimeoutMs?: number;
  /** Ceiling of the exponential pause between batches while NATS is unreachable. */
  maxBackoffMs?: number;
  registry?: Registry;
}

export interface OutboxRelay {
  /** Stops after the batch in flight; ends the LISTEN connection and an owned pool. */
  close(): Promise<void>;
  /** Seconds since the oldest unpublished row was written; 0 when everything is published. */
  lagSeconds(): Promise<number>;
}

interface BatchResult {
  selected: number;
  published: number;
  /** NATS (or Postgres) is unreachable; the rest of the batch was left for later and the loop backs off. */
  unavailable: boolean;
}

/** Failures of the connection or of JetStream as a whole, as opposed to a problem with one message. */
const TRANSPORT_ERRORS = new Set(['TimeoutError', 'ClosedConnectionError', 'DrainingConnectionError', 'ConnectionError', 'RequestError', 'NoResponders', 'JetStreamNotEnabled', 'ProtocolError']);

/**
 * Publishes committed outbox rows to JetStream. Woken by NOTIFY infra_outbox (sent at commit by the table's trigger)
 * and by a fallback timer. Each batch locks its rows with FOR UPDATE SKIP LOCKED, so relay replicas never publish
 * the same row concurrently, and marks them published in the same transaction. A crash between publish and commit
 * republishes the row later with the same Nats-Msg-Id, which JetStream drops as a duplicate.
 */
export async function createOutboxRelay(options: OutboxRelayOptions): Promise<OutboxRelay> {
  if (!options.pool && !options.databaseUrl) throw new Error('createOutboxRelay needs a pool or a databaseUrl');
  const ownsPool = !options.pool;
  const pool = options.pool ?? new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const log = options.logger.child({ component: 'outbox-relay' });

  const lagSeconds = async () => {
    const { rows } = await pool.query<{ lag: number | null }>(
      'SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS lag FROM infra.outbox WHERE published_at IS NULL',
    );
    return Math.max(0, rows[0]?.lag ?? 0);
  };
  const metrics = registerRelayMetrics(options.registry, lagSeconds);

  let closed = false;
  const signals = createSignals();
  const listener = await listen(pool, log, signals.notify, () => closed);

  const loop = async () => {
    let failedRounds = 0;
    while (!closed) {
      signals.reset();
      let result: BatchResult;
      try {
        result = await relayBatch(pool, options, batchSize, metrics, log);
      } catch (error) {
        log.error({ err: error }, 'outbox batch failed');
        result = { selected: 0, published: 0, unavailable: true };
      }
      if (closed) break;
      if (result.unavailable && result.published === 0) {
        failedRounds += 1;
        // A NOTIFY would only retry into the same outage, so only close() cuts this pause short.
        await signals.wait(Math.min(maxBackoffMs, 100 * 2 ** Math.min(failedRounds, 16)), { onNotify: false });
        continue;
      }
      failedRounds = 0;
      if (result.selected === batchSize) continue;
      await signals.wait(pollIntervalMs, { onNotify: true });
    }
  };
  const running = loop();
  log.info({ namespace: options.namespace, batch_size: batchSize }, 'outbox relay started');

  return {
    lagSeconds,
    async close() {
      if (closed) return running;
      closed = true;
      signals.close();
      await running;
      await listener.close();
      if (ownsPool) await pool.end();
      log.info('outbox relay stopped');
    },
  };
}

async function relayBatch(pool: pg.Pool, options: OutboxRelayOptions, batchSize: number, metrics: RelayMetrics, log: Logger): Promise<BatchResult> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ event_id: string; envelope: EventEnvelope }>(
      `SELECT event_id, envelope FROM infra.outbox
        WHERE published_at IS NULL
        ORDER BY created_at, event_id
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
      [batchSize],
    );
    const published: string[] = [];
    let natsDown = false;
    const publishOptions = { namespace: options.namespace, ...(options.publishTimeoutMs ? { timeoutMs: options.publishTimeoutMs } : {}) };
    // Publishes are pipelined on the one connection (JetStream stores them in send order) and awaited together:
    // a burst of events costs one round trip, not one per row. A row that fails stays unpublished for the next
    // batch, so under failure a later event may overtake it; consumers are idempotent and compare-and-set by state.
    const outcomes = await Promise.allSettled(rows.map((row) => publishEvent(options.js, row.envelope, publishOptions)));
    for (const [index, result] of outcomes.entries()) {
      const row = rows[index]!;
      if (result.status === 'fulfilled') {
        published.push(row.event_id);
        continue;
      }
      const error: unknown = result.reason;
      metrics.failures.inc();
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      await client.query('UPDATE infra.outbox SET publish_attempts = publish_attempts + 1, last_error = $2 WHERE event_id = $1', [row.event_id, message.slice(0, 2000)]);
      if (error instanceof Error && TRANSPORT_ERRORS.has(error.name)) natsDown = true;
      log.warn({ err: error, event_id: row.event_id, subject: row.envelope.event_type }, natsDown ? 'nats unavailable; pausing the relay' : 'outbox row could not be published');
    }
    if (published.length > 0) {
      await client.query(
        'UPDATE infra.outbox SET published_at = now(), publish_attempts = publish_attempts + 1, last_error = NULL WHERE event_id = ANY($1::uuid[])',
        [published],
      );
    }
    await client.query('COMMIT');
    metrics.published.inc(published.length);
    if (published.length > 0) log.debug({ published: published.length }, 'outbox rows published');
    return { selected: rows.length, published: published.length, unavailable: natsDown };
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Wake-ups for the relay loop: NOTIFY (remembered if it arrives mid-batch) and close. */
function createSignals() {
  let notified = false;
  let closed = false;
  let interrupt: ((reason: 'notify' | 'close') => void) | undefined;
  return {
    notify() {
      notified = true;
      interrupt?.('notify');
    },
    close() {
      closed = true;
      interrupt?.('close');
    },
    reset() {
      notified = false;
    },
    wait(ms: number, { onNotify }: { onNotify: boolean }): Promise<void> {
      if (closed || (onNotify && notified)) return Promise.resolve();
      return new Promise((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          interrupt = undefined;
          resolve();
        };
        const timer = setTimeout(finish, ms);
        interrupt = (reason) => {
          if (reason === 'close' || onNotify) finish();
        };
      });
    },
  };
}

interface Listener {
  close(): Promise<void>;
}

/** LISTEN on a dedicated connection, re-established after it drops; until then the poll timer carries the load. */
async function listen(pool: pg.Pool, log: Logger, onNotify: () => void, isClosed: () => boolean): Promise<Listener> {
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    const next = new pg.Client(pool.options);
    next.on('notification', () => onNotify());
    next.on('error', (error) => log.warn({ err: error }, 'outbox LISTEN connection failed'));
    next.on('end', () => {
      if (client !== next || isClosed()) return;
      client = undefined;
      scheduleReconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    client = next;
    // Rows committed while nobody listened are picked up by the batch this triggers.
    onNotify();
  };
  const scheduleReconnect = () => {
    retry = setTimeout(() => {
      retry = undefined;
      if (isClosed()) return;
      connect().catch((error: unknown) => {
        log.warn({ err: error }, 'outbox LISTEN reconnect failed');
        scheduleReconnect();
      });
    }, 1000);
  };

  await connect();
  return {
    async close() {
      if (retry) clearTimeout(retry);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}

import pg from 'pg';
import type { Registry } from 'prom-client';
import { prepared } from '@gpuaas/db';
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
  /** How long one publish may wait for its JetStream ack. */
  publishTimeoutMs?: number;
  /**
   * How long a claimed batch stays reserved for this relay; other replicas skip its rows until then, and the rows of
   * a relay that died come back when it lapses. Keep it well above publishTimeoutMs plus a slow mark.
   */
  leaseMs?: number;
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

/** A claimed batch whose publishes are written to the NATS connection; `done` settles (never rejects) once marked. */
interface SentBatch {
  selected: number;
  done: Promise<BatchResult>;
}

/** Failures of the connection or of JetStream as a whole, as opposed to a problem with one message. */
const TRANSPORT_ERRORS = new Set(['TimeoutError', 'ClosedConnectionError', 'DrainingConnectionError', 'ConnectionError', 'RequestError', 'NoResponders', 'JetStreamNotEnabled', 'ProtocolError']);

// One statement leases the oldest unleased rows. SKIP LOCKED keeps concurrent claims from waiting on each other, and
// a claim that loses the race re-checks the row and finds the other's lease. The outer SELECT restores the order.
const CLAIM_SQL = `WITH candidates AS (
  SELECT event_id FROM infra.outbox
   WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
   ORDER BY created_at, event_id
   LIMIT $1
   FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE infra.outbox o SET claimed_until = now() + $2::int * interval '1 millisecond'
    FROM candidates c
   WHERE o.event_id = c.event_id
  RETURNING o.event_id, o.envelope, o.created_at, o.claimed_until
)
SELECT event_id, envelope, now()::text AS claimed_at, claimed_until::text AS lease FROM claimed ORDER BY created_at, event_id`;

// Marks a batch's outcome in one statement: published rows (published_at = claim time, as when the batch began) and
// failed ones (left unpublished and unleased for the next batch). The lease doubles as a fencing token: a relay whose
// lease lapsed and was taken over changes nothing.
const MARK_SQL = `UPDATE infra.outbox o
   SET published_at = CASE WHEN r.error IS NULL THEN $3::timestamptz END,
       publish_attempts = o.publish_attempts + 1,
       last_error = r.error,
       claimed_until = NULL
  FROM unnest($1::uuid[], $2::text[]) AS r(event_id, error)
 WHERE o.event_id = r.event_id AND o.published_at IS NULL AND o.claimed_until = $4::timestamptz`;

/**
 * Publishes committed outbox rows to JetStream. Woken by NOTIFY infra_outbox (sent at commit by the table's trigger)
 * and by a fallback timer. Each batch leases its rows in one statement, so relay replicas never publish the same row
 * while the lease is live, and marks them in a second one; no transaction or row lock spans the NATS round trip.
 * A crash between publish and mark republishes the rows after the lease with the same Nats-Msg-Id, which JetStream
 * drops as a duplicate.
 */
export async function createOutboxRelay(options: OutboxRelayOptions): Promise<OutboxRelay> {
  if (!options.pool && !options.databaseUrl) throw new Error('createOutboxRelay needs a pool or a databaseUrl');
  const ownsPool = !options.pool;
  const pool = options.pool ?? new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const leaseMs = options.leaseMs ?? 30_000;
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

  const send = () =>
    sendBatch(pool, options, batchSize, leaseMs, metrics, log).catch((error: unknown): SentBatch => {
      log.error({ err: error }, 'outbox batch failed');
      return { selected: 0, done: Promise.resolve({ selected: 0, published: 0, unavailable: true }) };
    });

  const loop = async () => {
    let failedRounds = 0;
    // The next batch may be claimed once this one's publishes are on the wire, before their acks: JetStream stores
    // one connection's publishes in send order, so batches stay in order. At most one batch is left unacknowledged.
    let unacked: Promise<BatchResult> | undefined;
    try {
      while (!closed) {
        signals.reset();
        const batch = await send();
        const before = unacked ? await unacked : undefined;
        unacked = batch.done;
        if (closed) break;
        let result: BatchResult;
        if (before && before.unavailable && before.published === 0) {
          // The batch before met an outage; this one decides whether it is over before backing off.
          const current = await batch.done;
          unacked = undefined;
          result = { selected: current.selected, published: current.published, unavailable: true };
        } else {
          if (before) failedRounds = 0;
          if (batch.selected === batchSize) continue;
          // A NOTIFY while this batch awaits its acks starts the next claim at once.
          if ((await signals.wait(Infinity, { onNotify: true, until: batch.done })) !== 'until') continue;
          result = await batch.done;
          unacked = undefined;
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
    } finally {
      await unacked;
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

/** Claims a batch (one statement) and writes its publishes to the NATS connection; `done` awaits the acks and marks. */
async function sendBatch(pool: pg.Pool, options: OutboxRelayOptions, batchSize: number, leaseMs: number, metrics: RelayMetrics, log: Logger): Promise<SentBatch> {
  const { rows } = await pool.query<{ event_id: string; envelope: EventEnvelope; claimed_at: string; lease: string }>(prepared(CLAIM_SQL, [batchSize, leaseMs]));
  if (rows.length === 0) return { selected: 0, done: Promise.resolve({ selected: 0, published: 0, unavailable: false }) };
  const publishOptions = { namespace: options.namespace, ...(options.publishTimeoutMs ? { timeoutMs: options.publishTimeoutMs } : {}) };
  // Publishes are pipelined on the one connection (each is written to it synchronously, in row order) and awaited
  // together: a burst of events costs one round trip, not one per row. A row that fails is released for the next
  // batch, so under failure a later event may overtake it; consumers are idempotent and compare-and-set by state.
  const sends = rows.map((row) => publishEvent(options.js, row.envelope, publishOptions));
  const done = Promise.allSettled(sends)
    .then(async (outcomes) => {
      const errors: Array<string | null> = [];
      let natsDown = false;
      for (const [index, outcome] of outcomes.entries()) {
        if (outcome.status === 'fulfilled') {
          errors.push(null);
          continue;
        }
        const row = rows[index]!;
        const error: unknown = outcome.reason;
        metrics.failures.inc();
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        errors.push(message.slice(0, 2000));
        if (error instanceof Error && TRANSPORT_ERRORS.has(error.name)) natsDown = true;
        log.warn({ err: error, event_id: row.event_id, subject: row.envelope.event_type }, natsDown ? 'nats unavailable; pausing the relay' : 'outbox row could not be published');
      }
      const first = rows[0]!;
      await pool.query(prepared(MARK_SQL, [rows.map((row) => row.event_id), errors, first.claimed_at, first.lease]));
      const published = errors.filter((error) => error === null).length;
      metrics.published.inc(published);
      if (published > 0) log.debug({ published }, 'outbox rows published');
      return { selected: rows.length, published, unavailable: natsDown };
    })
    .catch((error: unknown): BatchResult => {
      // The rows stay leased and come back when the lease lapses; a republish is dropped as a duplicate.
      log.error({ err: error }, 'outbox batch failed');
      return { selected: rows.length, published: 0, unavailable: true };
    });
  return { selected: rows.length, done };
}

type WakeReason = 'timeout' | 'notify' | 'close' | 'until';

/** Wake-ups for the relay loop: NOTIFY (remembered if it arrives mid-batch), close, and optionally a promise. */
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
    /** `ms` may be Infinity: then only a signal or `until` settling ends the wait. */
    wait(ms: number, { onNotify, until }: { onNotify: boolean; until?: Promise<unknown> }): Promise<WakeReason> {
      if (closed) return Promise.resolve('close');
      if (onNotify && notified) return Promise.resolve('notify');
      return new Promise((resolve) => {
        let finished = false;
        const finish = (reason: WakeReason) => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          if (interrupt === onInterrupt) interrupt = undefined;
          resolve(reason);
        };
        const timer = Number.isFinite(ms) ? setTimeout(() => finish('timeout'), ms) : undefined;
        const onInterrupt = (reason: 'notify' | 'close') => {
          if (reason === 'close' || onNotify) finish(reason);
        };
        interrupt = onInterrupt;
        until?.then(
          () => finish('until'),
          () => finish('until'),
        );
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

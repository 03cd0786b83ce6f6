import pg from 'pg';
import { createTestDatabase, testNamespace, type TestDatabase } from '@gpuaas/testkit';
import { createLogger } from '@gpuaas/telemetry';
import {
  connectNats,
  createEnvelope,
  deleteStreams,
  initStreams,
  jetstream,
  jetstreamManager,
  subjects,
  type EventEnvelope,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  type PubAck,
  type Subject,
} from '@gpuaas/events';
import { writeOutbox } from '../../src/index.js';

export const silentLogger = createLogger('outbox-test', 'silent');

export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  close(): Promise<void>;
}

/** A namespace of streams on the given server (the shared one by default), deleted again on close. */
export async function openBus(url = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222'): Promise<Bus> {
  const nc = await connectNats(url, 'outbox-test', { reconnectTimeWaitMs: 50 });
  const jsm = await jetstreamManager(nc);
  const namespace = testNamespace();
  await initStreams(jsm, { namespace });
  return {
    nc,
    js: jetstream(nc),
    jsm,
    namespace,
    async close() {
      await deleteStreams(jsm, { namespace }).catch(() => undefined);
      await nc.close();
    },
  };
}

export interface Db {
  db: TestDatabase;
  pool: pg.Pool;
  close(): Promise<void>;
}

export async function openDb(): Promise<Db> {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 8 });
  return {
    db,
    pool,
    async close() {
      await pool.end();
      await db.drop();
    },
  };
}

/** Writes events in one transaction that commits or rolls back, as a domain service would. */
export async function writeEvents(pool: pg.Pool, count: number, outcome: 'commit' | 'rollback' = 'commit', subject: Subject = subjects.provisioningRequested): Promise<EventEnvelope[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const envelopes: EventEnvelope[] = [];
    for (let i = 0; i < count; i++) {
      const envelope = createEnvelope(subject, { i });
      await writeOutbox(client, envelope);
      envelopes.push(envelope);
    }
    await client.query(outcome === 'commit' ? 'COMMIT' : 'ROLLBACK');
    return envelopes;
  } finally {
    client.release();
  }
}

/** Event ids stored in a namespace's stream, by stream order, with the Nats-Msg-Id each carried. */
export async function storedEvents(bus: Bus, stream = 'PROVISIONING'): Promise<Array<{ eventId: string; msgId: string | undefined }>> {
  const name = `${bus.namespace}_${stream}`;
  const { state } = await bus.jsm.streams.info(name);
  const result: Array<{ eventId: string; msgId: string | undefined }> = [];
  for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
    const message = await bus.jsm.streams.getMessage(name, { seq });
    if (message) result.push({ eventId: message.json<EventEnvelope>().event_id, msgId: message.header.get('Nats-Msg-Id') || undefined });
  }
  return result;
}

/** A JetStream client that records every publish ack, to tell a stored publish from a dropped duplicate. */
export function recordingJetStream(js: JetStreamClient): { js: JetStreamClient; acks: Array<{ msgId: string; ack: PubAck }> } {
  const acks: Array<{ msgId: string; ack: PubAck }> = [];
  const recording = new Proxy(js, {
    get(target, property, receiver) {
      if (property !== 'publish') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<JetStreamClient['publish']>) => {
        const ack = await target.publish(...args);
        acks.push({ msgId: args[2]?.msgID ?? '', ack });
        return ack;
      };
    },
  });
  return { js: recording, acks };
}

/** A JetStream client for a relay that hangs mid-batch, as a process that died would: no publish reaches NATS or settles until `release()`. */
export function stalledJetStream(js: JetStreamClient): { js: JetStreamClient; release(): void } {
  const pending: Array<(error: Error) => void> = [];
  const stalled = new Proxy(js, {
    get(target, property, receiver) {
      if (property !== 'publish') return Reflect.get(target, property, receiver);
      return () => new Promise<PubAck>((_, reject) => pending.push(reject));
    },
  });
  return {
    js: stalled,
    release() {
      for (const reject of pending.splice(0)) reject(new Error('the relay died'));
    },
  };
}

/** A JetStream client whose publishes reach NATS at once but whose acks are held back until `open()`. */
export function slowAckJetStream(js: JetStreamClient): { js: JetStreamClient; open(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const slow = new Proxy(js, {
    get(target, property, receiver) {
      if (property !== 'publish') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<JetStreamClient['publish']>) => {
        const ack = target.publish(...args);
        await gate;
        return ack;
      };
    },
  });
  return { js: slow, open };
}

export async function unpublishedCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM infra.outbox WHERE published_at IS NULL');
  return rows[0]!.n;
}

export async function eventually<T>(what: string, probe: () => Promise<T> | T, predicate: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await probe();
    if (predicate(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 25));
  } while (Date.now() < deadline);
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

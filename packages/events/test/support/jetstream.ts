import { testNamespace } from '@gpuaas/testkit';
import { createLogger } from '@gpuaas/telemetry';
import { connectNats, deleteStreams, initStreams, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type NatsConnection } from '../../src/index.js';

export interface TestBus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  close(): Promise<void>;
}

/** The shared NATS server with this test's own namespace of streams, deleted again on close. */
export async function openTestBus(): Promise<TestBus> {
  const nc = await connectNats(process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222', 'events-test');
  const jsm = await jetstreamManager(nc);
  const namespace = testNamespace();
  await initStreams(jsm, { namespace });
  return {
    nc,
    js: jetstream(nc),
    jsm,
    namespace,
    async close() {
      await deleteStreams(jsm, { namespace });
      await nc.close();
    },
  };
}

export const silentLogger = createLogger('events-test', 'silent');

/** Resolves once `predicate` holds, polling; rejects with `what` after the deadline. */
export async function eventually<T>(what: string, probe: () => Promise<T> | T, predicate: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await probe();
    if (predicate(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 20));
  } while (Date.now() < deadline);
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/** Every message currently stored in one of the bus's streams, decoded as JSON, oldest first. */
export async function storedMessages(bus: TestBus, stream: 'PROVISIONING' | 'BILLING' | 'PAYMENTS' | 'DLQ'): Promise<Array<{ subject: string; data: unknown }>> {
  const name = `${bus.namespace}_${stream}`;
  const { state } = await bus.jsm.streams.info(name);
  const result: Array<{ subject: string; data: unknown }> = [];
  for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
    const message = await bus.jsm.streams.getMessage(name, { seq });
    if (message) result.push({ subject: message.subject, data: message.json() });
  }
  return result;
}

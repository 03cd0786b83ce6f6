import { afterEach, describe, expect, it } from 'vitest';
import { testNamespace } from '@gpuaas/testkit';
import { connectNats, deleteStreams, DUPLICATE_WINDOW_MS, initStreams, jetstreamManager, streamNames, type JetStreamManager, type NatsConnection } from '../src/index.js';

describe('initStreams', () => {
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager;
  const namespace = testNamespace();

  afterEach(async () => {
    if (!nc) return;
    await deleteStreams(jsm, { namespace });
    await nc.close();
    nc = undefined;
  });

  async function manager(): Promise<JetStreamManager> {
    nc = await connectNats(process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222', 'streams-test');
    jsm = await jetstreamManager(nc);
    return jsm;
  }

  it('creates the four namespaced streams with file storage, a duplicate window and a longer DLQ retention', async () => {
    const jsm = await manager();
    await initStreams(jsm, { namespace });
    const infos = Object.fromEntries(await Promise.all(streamNames.map(async (s) => [s, (await jsm.streams.info(`${namespace}_${s}`)).config] as const)));
    expect(infos['PROVISIONING']?.subjects).toEqual([`${namespace}.provisioning.>`]);
    expect(infos['BILLING']?.subjects).toEqual([`${namespace}.billing.>`]);
    expect(infos['PAYMENTS']?.subjects).toEqual([`${namespace}.payments.>`]);
    expect(infos['DLQ']?.subjects).toEqual([`${namespace}.dlq.>`]);
    for (const config of Object.values(infos)) {
      expect(config.storage).toBe('file');
      expect(config.retention).toBe('limits');
      expect(config.duplicate_window).toBe(DUPLICATE_WINDOW_MS * 1_000_000);
    }
    expect(infos['DLQ']!.max_age).toBeGreaterThan(infos['PROVISIONING']!.max_age);
  });

  it('is idempotent, also when replicas start at the same time', async () => {
    const jsm = await manager();
    await Promise.all([initStreams(jsm, { namespace }), initStreams(jsm, { namespace }), initStreams(jsm, { namespace })]);
    await initStreams(jsm, { namespace });
    const names: string[] = [];
    for await (const name of jsm.streams.names(`${namespace}.>`)) names.push(name);
    expect(names.sort()).toEqual(streamNames.map((s) => `${namespace}_${s}`).sort());
  });

  it('brings an existing stream back to the current configuration', async () => {
    const jsm = await manager();
    await initStreams(jsm, { namespace });
    await jsm.streams.update(`${namespace}_BILLING`, { max_age: 1_000_000_000 * 3600 });
    await initStreams(jsm, { namespace });
    expect((await jsm.streams.info(`${namespace}_BILLING`)).config.max_age).toBe(7 * 24 * 3600 * 1_000_000_000);
  });

  it('refuses to delete the unnamespaced contract streams', async () => {
    const jsm = await manager();
    await expect(deleteStreams(jsm, { namespace: '' })).rejects.toThrow(/needs a namespace/);
  });
});

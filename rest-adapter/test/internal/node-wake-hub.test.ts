import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, type NatsConnection } from '@gpuaas/events';
import { wakeNode } from '@gpuaas/subgraph-compute/nodes';
import { testNamespace } from '@gpuaas/testkit';
import { createNodeWakeHub, type NodeWakeHub } from '../../src/internal/node-wake-hub.js';

const natsUrl = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const namespace = testNamespace();
let nats: NatsConnection;
let hub: NodeWakeHub;

beforeAll(async () => {
  nats = await connectNats(natsUrl, 'node-wake-hub-test');
  hub = createNodeWakeHub(nats, namespace);
  // The hub's subscription must reach the server before the first wake is published.
  await nats.flush();
});

afterAll(async () => {
  hub?.close();
  await nats?.drain();
});

const wake = async (nodeId: string) => {
  wakeNode({ nats, config: { natsNamespace: namespace } }, nodeId);
  await nats.flush();
};

/** Settles `next` promises into a record without awaiting any of them. */
function track(promise: Promise<boolean>) {
  const state: { value: boolean | undefined } = { value: undefined };
  void promise.then((value) => (state.value = value));
  return state;
}

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    // ci-allow canonical_error_guard: test helper
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('node wake hub', () => {
  it('hands one wake to one waiting poll of the node, the longest-held first, and none to other nodes', async () => {
    const nodeId = randomUUID();
    const other = hub.listen(randomUUID());
    const polls = [hub.listen(nodeId), hub.listen(nodeId), hub.listen(nodeId)];
    const states = polls.map((poll) => track(poll.next(5000)));
    const otherState = track(other.next(5000));
    await wake(nodeId);
    await until(() => states[0]!.value !== undefined);
    expect(states.map((state) => state.value)).toEqual([true, undefined, undefined]);
    await wake(nodeId);
    await until(() => states[1]!.value !== undefined);
    expect(states.map((state) => state.value)).toEqual([true, true, undefined]);
    expect(otherState.value).toBeUndefined();
    for (const poll of [...polls, other]) poll.stop();
    expect(hub.size()).toBe(0);
  });

  it('remembers a wake for a poll that is busy claiming, and hands an unused wake on when that poll leaves', async () => {
    const nodeId = randomUUID();
    const busy = hub.listen(nodeId);
    // `busy` is between claims (not in next()), so the wake is kept for its next wait.
    await wake(nodeId);
    const waiting = hub.listen(nodeId);
    const waitingState = track(waiting.next(5000));
    // Its claim found a task; it leaves without using the wake, which goes to the poll still waiting.
    busy.stop();
    await until(() => waitingState.value !== undefined);
    expect(waitingState.value).toBe(true);
    waiting.stop();
  });

  it('a kept wake makes the next wait return at once; without one the wait times out with false', async () => {
    const nodeId = randomUUID();
    const poll = hub.listen(nodeId);
    await wake(nodeId);
    await expect(poll.next(5000)).resolves.toBe(true);
    await expect(poll.next(20)).resolves.toBe(false);
    const aborted = new AbortController();
    const pending = poll.next(5000, aborted.signal);
    aborted.abort();
    await expect(pending).resolves.toBe(false);
    poll.stop();
    expect(hub.size()).toBe(0);
  });
});

import pg from 'pg';
import { resolvePolicies } from '@gpuaas/config';
import { connectNats, deleteStreams, initStreams, jetstream, jetstreamManager, publishEvent, type EventEnvelope, type NatsConnection } from '@gpuaas/events';
import { createLogger, currentContext } from '@gpuaas/telemetry';
import { createTestDatabase, createTestRedis, testNamespace, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAllocation } from '../../src/allocations/create.js';
import { releaseAllocation } from '../../src/allocations/lifecycle.js';
import type { AllocationView } from '../../src/allocations/model.js';
import { VIEW_SELECT } from '../../src/allocations/records.js';
import type { ComputeConfig } from '../../src/config.js';
import type { ComputeDeps } from '../../src/deps.js';
import { allocationStream } from '../../src/live/allocation-stream.js';
import { LiveFeed } from '../../src/live/feed.js';
import { createCommand, seedCapacity, seedMember } from '../support/allocation-world.js';
import { outboxEvents } from '../support/provisioning-harness.js';

let database: TestDatabase;
let redis: TestRedis;
let nats: NatsConnection;
let deps: ComputeDeps;
let feed: LiveFeed;
/** Statements on the pool that read the allocation view (the feed's reads; services read through their clients). */
let viewReads = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 8 });
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : first?.text;
    if (text?.startsWith(VIEW_SELECT)) viewReads++;
    return query(...args);
  }) as typeof pool.query;
  nats = await connectNats(process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222', 'live-feed-test');
  redis = await createTestRedis();
  const config = {
    natsNamespace: testNamespace(),
    policies: resolvePolicies({ POLICY_MAX_LIVE_ALLOCATIONS_PER_USER: '100', POLICY_MIN_RUNWAY_FOR_NEW_ALLOCATION_SECONDS: '0' }),
  } as ComputeConfig;
  deps = { pool, nats, redis, logger: createLogger('live-feed-test', 'silent'), config };
  await initStreams(await jetstreamManager(nats), { namespace: config.natsNamespace });
  feed = new LiveFeed(deps);
  await feed.ready();
});

afterAll(async () => {
  feed?.stop();
  if (nats) {
    await deleteStreams(await jetstreamManager(nats), { namespace: deps.config.natsNamespace });
    await nats.close();
  }
  await deps?.pool.end();
  await redis?.cleanup();
  await database?.drop();
});

const publish = (envelope: EventEnvelope) => publishEvent(jetstream(nats), envelope, { namespace: deps.config.natsNamespace });

/** A subscriber of the project's allocations (as allocationUpdated is), collecting the newest copy of each. */
async function watchProject(projectId: string) {
  const stream = await allocationStream(
    (push) => feed.projects.add(projectId, push),
    async () => [],
    (view) => view,
  );
  const latest = new Map<string, AllocationView>();
  return {
    latest,
    /** Takes copies until `id` has been received. */
    async until(id: string): Promise<void> {
      while (!latest.has(id)) {
        const next = await stream.next();
        if (next.done) throw new Error('stream ended');
        const view = next.value as AllocationView;
        latest.set(view.id, view);
      }
    },
    stop: () => stream.return!(),
  };
}

describe('live feed', () => {
  it('hands a burst of changes to many allocations to their subscriber in their final states, with fewer reads than events', async () => {
    const count = 20;
    const capacity = await seedCapacity(deps.pool, count + 1);
    const member = await seedMember(deps.pool);
    const subscriber = await watchProject(member.projectId);
    const correlationsOnEmit = new Map<string, string | undefined>();
    const unlisten = feed.projects.add(member.projectId, (view) => correlationsOnEmit.set(view.id, currentContext()?.correlationId));
    try {
      const created = await Promise.all(Array.from({ length: count + 1 }, () => createAllocation(deps, member.actor, createCommand(capacity, member))));
      const marker = created.pop()!;
      const released = await Promise.all(
        created.map((allocation) => releaseAllocation(deps, { ...member.actor, correlationId: `release-${allocation.id}` }, allocation.id)),
      );
      const events = (await Promise.all(created.map((allocation) => outboxEvents(deps.pool, allocation.id)))).flat();
      expect(events).toHaveLength(2 * count);
      const readsBefore = viewReads;

      // The burst: every change of every allocation at once, as the relay publishes a batch.
      await Promise.all(events.map(publish));
      // Stream order: once the marker (published after the burst) has been handed on, every event of the burst has.
      await publish((await outboxEvents(deps.pool, marker.id))[0]!);
      await subscriber.until(marker.id);

      for (const view of released) {
        expect(subscriber.latest.get(view.id)).toMatchObject({ id: view.id, state: view.state, version: view.version });
        // Handed on under the correlation id of the allocation's newest event.
        expect(correlationsOnEmit.get(view.id)).toBe(`release-${view.id}`);
      }
      const reads = viewReads - readsBefore;
      expect(reads).toBeGreaterThan(0);
      expect(reads).toBeLessThan(events.length + 1);
    } finally {
      unlisten();
      await subscriber.stop();
    }
  });

  it('reads nothing for allocations that nobody here watches', async () => {
    const capacity = await seedCapacity(deps.pool, 2);
    const watched = await seedMember(deps.pool);
    const other = await seedMember(deps.pool);
    const subscriber = await watchProject(watched.projectId);
    try {
      const unwatched = await createAllocation(deps, other.actor, createCommand(capacity, other));
      const marker = await createAllocation(deps, watched.actor, createCommand(capacity, watched));
      const readsBefore = viewReads;
      await publish((await outboxEvents(deps.pool, unwatched.id))[0]!);
      await publish((await outboxEvents(deps.pool, marker.id))[0]!);
      await subscriber.until(marker.id);
      expect(viewReads - readsBefore).toBe(1);
      expect(subscriber.latest.has(unwatched.id)).toBe(false);
    } finally {
      await subscriber.stop();
    }
  });
});

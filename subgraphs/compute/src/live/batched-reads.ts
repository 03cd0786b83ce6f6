import type pg from 'pg';
import { projectRoleOf, type ProjectRole } from '../allocations/actor.js';
import { LIVE_STATES, type AllocationView } from '../allocations/model.js';
import { findAllocationView, listAllocationViews } from '../allocations/repository.js';

/**
 * One read for every caller that asks for the same key before the read starts, and at most one read per key in
 * flight: callers arriving while a read runs wait for the next one, which starts when the running one ends. A
 * reconnect storm (a gateway restart, thousands of subscribers at once) then costs a couple of queries per distinct
 * key instead of one per subscriber, and cannot exhaust the pool.
 *
 * A read is joined only while it has not started: a caller that registered its live listener before joining is
 * therefore guaranteed a read taken after its registration (see allocation-stream.ts).
 */
export class BatchedRead<V> {
  readonly #keys = new Map<string, { running: Promise<unknown> | undefined; next: Promise<V> | undefined }>();

  constructor(private readonly read: (key: string) => Promise<V>) {}

  load(key: string): Promise<V> {
    let state = this.#keys.get(key);
    if (!state) this.#keys.set(key, (state = { running: undefined, next: undefined }));
    if (state.next) return state.next;
    const entry = state;
    // The next read waits for the running one to settle (either way), or for the end of this tick.
    const after = entry.running ? entry.running.then(ignore, ignore) : new Promise<void>((resolve) => setImmediate(resolve));
    const next: Promise<V> = after.then(() => {
      entry.next = undefined;
      const running = this.read(key);
      entry.running = running;
      const settle = () => {
        if (entry.running !== running) return;
        entry.running = undefined;
        if (!entry.next && this.#keys.get(key) === entry) this.#keys.delete(key);
      };
      running.then(settle, settle);
      return running;
    });
    entry.next = next;
    return next;
  }
}

const ignore = () => undefined;

/** How many of a project's live allocations a new allocationUpdated subscriber receives first. */
export const CATCH_UP_LIMIT = 100;

/** The reads a subscriber's start needs, batched per key. */
export class LiveReads {
  readonly allocation: BatchedRead<AllocationView | undefined>;
  readonly projectLive: BatchedRead<AllocationView[]>;
  /** Key: `${projectId}:${userId}`. */
  readonly role: BatchedRead<ProjectRole | null>;

  constructor(pool: pg.Pool) {
    this.allocation = new BatchedRead((id) => findAllocationView(pool, id));
    this.projectLive = new BatchedRead(async (projectId) =>
      (await listAllocationViews(pool, { projectId, states: LIVE_STATES }, { first: CATCH_UP_LIMIT, after: null })).slice(0, CATCH_UP_LIMIT),
    );
    this.role = new BatchedRead((key) => {
      const [projectId, userId] = key.split(':') as [string, string];
      return projectRoleOf(pool, projectId, userId);
    });
  }

  roleOf(projectId: string, userId: string): Promise<ProjectRole | null> {
    return this.role.load(`${projectId}:${userId}`);
  }
}

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, Conflict } from '@gpuaas/errors';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import {
  type IdempotencyStore,
  type IdempotencyStoreOptions,
  type IdempotentRequest,
  type StoredResponse,
  createIdempotencyStore,
  fingerprintRequest,
} from '../src/index.js';

const KEY_PREFIX = 'gpuaas:';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let redis: TestRedis;
const stores: IdempotencyStore[] = [];
let keySeq = 0;

function store(options: Partial<IdempotencyStoreOptions> = {}): IdempotencyStore {
  const created = createIdempotencyStore({ redis, keyPrefix: KEY_PREFIX, ...options });
  stores.push(created);
  return created;
}

function request(body: unknown, overrides: Partial<IdempotentRequest> = {}): IdempotentRequest {
  return {
    scope: { principal: 'user-1', operationId: 'createAllocation' },
    key: `key-${++keySeq}`,
    requestFingerprint: fingerprintRequest({ method: 'POST', path: '/api/v1/allocations', body }),
    ...overrides,
  };
}

function created(id: string): StoredResponse {
  return { status: 201, headers: { 'Content-Type': 'application/json', Location: `/api/v1/allocations/${id}`, 'X-Correlation-Id': 'c-1' }, body: { id, state: 'requested' } };
}

/** Record keys as the test client addresses them (its own prefix stripped). */
async function recordKeys(): Promise<string[]> {
  const keys = await redis.keys(`${redis.keyPrefix}${KEY_PREFIX}idem:*`);
  return keys.map((key) => key.slice(redis.keyPrefix.length));
}

/** Live subscriptions on the completion channel of a request's key: 1 once a duplicate is waiting. */
async function subscribersOf(req: IdempotentRequest): Promise<number> {
  const { principal, operationId } = req.scope;
  const id = createHash('sha256').update(JSON.stringify([principal, operationId, req.key])).digest('hex');
  const [, count] = (await redis.pubsub('NUMSUB', `${redis.keyPrefix}${KEY_PREFIX}idem:done:${id}`)) as [string, number];
  return count;
}

beforeAll(async () => {
  redis = await createTestRedis();
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis.cleanup();
});

describe('IdempotencyStore.execute', () => {
  it('runs once and replays the first response, marked as replayed, for the same key and body', async () => {
    const idem = store();
    const req = request({ gpu: 'h100', region: 'eu' });
    let runs = 0;
    const run = async () => {
      runs += 1;
      return created(`a-${runs}`);
    };

    const first = await idem.execute(req, run);
    const second = await idem.execute({ ...req, requestFingerprint: fingerprintRequest({ method: 'POST', path: '/api/v1/allocations', body: { region: 'eu', gpu: 'h100' } }) }, run);

    expect(runs).toBe(1);
    expect(first.replayed).toBe(false);
    expect(first.response).toEqual(created('a-1'));
    expect(second.replayed).toBe(true);
    expect(second.response.status).toBe(201);
    expect(second.response.body).toEqual({ id: 'a-1', state: 'requested' });
    expect(second.response.headers).toEqual({
      'content-type': 'application/json',
      location: '/api/v1/allocations/a-1',
      'idempotent-replayed': 'true',
    });
  });

  it('answers 409 idempotency_key_reused for the same key with a different body, without running', async () => {
    const idem = store();
    const req = request({ gpu: 'h100' });
    await idem.execute(req, async () => created('b'));
    let ranAgain = false;

    const reuse = idem.execute({ ...req, requestFingerprint: fingerprintRequest({ method: 'POST', path: '/api/v1/allocations', body: { gpu: 'a100' } }) }, async () => {
      ranAgain = true;
      return created('c');
    });

    await expect(reuse).rejects.toSatisfy((error: unknown) => error instanceof AppError && error.code === 'idempotency_key_reused' && error.httpStatus === 409);
    expect(ranAgain).toBe(false);
  });

  it('executes 50 concurrent duplicates exactly once and gives all of them the same response', async () => {
    const idem = store();
    const req = request({ gpu: 'h100', n: 50 });
    let runs = 0;
    const run = async () => {
      runs += 1;
      // A slow operation, so the duplicates really arrive while it is in progress.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return created('concurrent');
    };

    const results = await Promise.all(Array.from({ length: 50 }, () => idem.execute(req, run)));

    expect(runs).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    for (const result of results) {
      expect(result.response.status).toBe(201);
      expect(result.response.body).toEqual({ id: 'concurrent', state: 'requested' });
    }
  });

  it('makes a duplicate give up with idempotency_request_in_progress after its bounded wait', async () => {
    const idem = store();
    const impatient = store({ waitTimeoutMs: 150 });
    const req = request({ slow: true });
    const gate = deferred<void>();
    const first = idem.execute(req, async () => {
      await gate.promise;
      return created('slow');
    });
    await expect.poll(async () => (await recordKeys()).length).toBeGreaterThan(0);

    const startedAt = Date.now();
    const waiter = impatient.execute(req, async () => created('never'));
    await expect(waiter).rejects.toSatisfy((error: unknown) => error instanceof AppError && error.code === 'idempotency_request_in_progress');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);

    gate.resolve();
    expect((await first).replayed).toBe(false);
    const later = await impatient.execute(req, async () => created('never'));
    expect(later).toMatchObject({ replayed: true, response: { body: { id: 'slow' } } });
  });

  it('lets a new execution take over once a crashed claim expires, and ignores the late claimant', async () => {
    const idem = store({ inProgressTtlSeconds: 0.3 });
    const req = request({ crash: true });
    const crashed = deferred<void>();
    const claimant = idem.execute(req, async () => {
      await crashed.promise;
      return created('late');
    });
    await expect.poll(async () => (await recordKeys()).length).toBeGreaterThan(0);

    const startedAt = Date.now();
    const takeover = await idem.execute(req, async () => created('takeover'));

    expect(takeover.replayed).toBe(false);
    expect(takeover.response.body).toEqual({ id: 'takeover', state: 'requested' });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200);

    crashed.resolve();
    expect((await claimant).response.body).toEqual({ id: 'late', state: 'requested' });
    const replay = await idem.execute(req, async () => created('third'));
    expect(replay).toMatchObject({ replayed: true, response: { body: { id: 'takeover' } } });
  });

  it('keeps completed records for the configured retention, 24 hours by default', async () => {
    const before = new Set(await recordKeys());
    await store({ retentionSeconds: 3600 }).execute(request({ ttl: 1 }), async () => created('ttl-1'));
    const [configuredKey] = (await recordKeys()).filter((key) => !before.has(key));
    await store().execute(request({ ttl: 2 }), async () => created('ttl-2'));
    const [defaultKey] = (await recordKeys()).filter((key) => !before.has(key) && key !== configuredKey);

    const configured = await redis.pttl(configuredKey!);
    const byDefault = await redis.pttl(defaultKey!);
    expect(configured).toBeGreaterThan(3600_000 - 10_000);
    expect(configured).toBeLessThanOrEqual(3600_000);
    expect(byDefault).toBeGreaterThan(86_400_000 - 10_000);
    expect(byDefault).toBeLessThanOrEqual(86_400_000);
  });

  it('keeps the same key of two callers, or of two operations, apart', async () => {
    const idem = store();
    const key = `shared-${++keySeq}`;
    const alice = request({ who: 'alice' }, { key, scope: { principal: 'alice', operationId: 'createAllocation' } });
    const bob = request({ who: 'bob' }, { key, scope: { principal: 'bob', operationId: 'createAllocation' } });
    const aliceOther = request({ who: 'alice-2' }, { key, scope: { principal: 'alice', operationId: 'createSshKey' } });

    const results = await Promise.all([
      idem.execute(alice, async () => created('alice')),
      idem.execute(bob, async () => created('bob')),
      idem.execute(aliceOther, async () => created('alice-ssh')),
    ]);

    expect(results.map((r) => [r.replayed, (r.response.body as { id: string }).id])).toEqual([
      [false, 'alice'],
      [false, 'bob'],
      [false, 'alice-ssh'],
    ]);
  });

  it('stores a catalog 4xx thrown by the operation and replays it as the response', async () => {
    const idem = store();
    const req = request({ conflict: true });
    let runs = 0;
    const run = async (): Promise<StoredResponse> => {
      runs += 1;
      throw Conflict('The allocation is already releasing', { allocation_id: 'a-9' });
    };

    await expect(idem.execute(req, run)).rejects.toSatisfy((error: unknown) => error instanceof AppError && error.code === 'conflict');
    const replay = await idem.execute(req, run);

    expect(runs).toBe(1);
    expect(replay.replayed).toBe(true);
    expect(replay.response.status).toBe(409);
    expect(replay.response.body).toMatchObject({ code: 'conflict', message: 'The allocation is already releasing', details: { allocation_id: 'a-9' } });
  });

  it('releases the key after an unexpected or retryable failure so a retry executes again', async () => {
    const idem = store();
    for (const failure of [new Error('database connection reset'), new AppError('rate_limited', 'Too many requests')]) {
      const req = request({ failure: failure.message });
      let runs = 0;
      await expect(
        idem.execute(req, async () => {
          runs += 1;
          throw failure;
        }),
      ).rejects.toBe(failure);
      const retry = await idem.execute(req, async () => {
        runs += 1;
        return created('retried');
      });
      expect(runs).toBe(2);
      expect(retry.replayed).toBe(false);
    }
  });

  it('wakes a waiting duplicate when the first execution fails and lets it execute', async () => {
    const idem = store();
    const req = request({ wake: true });
    const gate = deferred<void>();
    const first = idem.execute(req, async () => {
      await gate.promise;
      throw new Error('boom');
    });
    await expect.poll(async () => (await recordKeys()).length).toBeGreaterThan(0);
    const startedAt = Date.now();
    const second = idem.execute(req, async () => created('second'));
    await expect.poll(() => subscribersOf(req)).toBe(1);

    gate.resolve();
    await expect(first).rejects.toThrow('boom');
    expect(await second).toMatchObject({ replayed: false, response: { body: { id: 'second' } } });
    // Woken by the release message, not by its 10 s wait or a 60 s claim expiry.
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });
});

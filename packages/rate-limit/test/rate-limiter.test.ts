import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { type RateLimiter, createRateLimiter } from '../src/index.js';

let redis: TestRedis;
let limiter: RateLimiter;
let clockMs = 1_700_000_000_000;
let clocked: RateLimiter;
let bucketSeq = 0;
const bucket = (name: string) => `${name}:${++bucketSeq}`;

beforeAll(async () => {
  redis = await createTestRedis();
  limiter = createRateLimiter({ redis, keyPrefix: 'gpuaas:' });
  clocked = createRateLimiter({ redis, keyPrefix: 'gpuaas:', now: () => clockMs });
});

afterAll(async () => {
  await redis.cleanup();
});

describe('RateLimiter', () => {
  it('allows exactly the limit out of 100 concurrent requests', async () => {
    const name = bucket('burst');
    const decisions = await Promise.all(Array.from({ length: 100 }, () => limiter.consume(name, { limit: 37, windowSeconds: 60 })));

    const allowed = decisions.filter((d) => d.allowed);
    expect(allowed).toHaveLength(37);
    expect(new Set(allowed.map((d) => d.remaining))).toEqual(new Set(Array.from({ length: 37 }, (_, i) => i)));
    for (const refused of decisions.filter((d) => !d.allowed)) {
      expect(refused.remaining).toBe(0);
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
  });

  it('slides the window: each unit comes back exactly one window after it was taken', async () => {
    const name = bucket('slide');
    // A long window keeps the key's real-time TTL out of the way while the injected clock moves.
    const rule = { limit: 3, windowSeconds: 60 };
    const start = clockMs;
    for (const offset of [0, 100, 200]) {
      clockMs = start + offset;
      expect((await clocked.consume(name, rule)).allowed).toBe(true);
    }

    clockMs = start + 59_999;
    expect(await clocked.consume(name, rule)).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 1, retryAfterSeconds: 1 });
    clockMs = start + 60_000;
    expect(await clocked.consume(name, rule)).toMatchObject({ allowed: true, remaining: 0 });
    // A fixed window would have reset everything at start + 60 000; the sliding one still counts 100, 200 and 60 000.
    expect(await clocked.consume(name, rule)).toMatchObject({ allowed: false, retryAfterMs: 100 });
    clockMs = start + 60_100;
    expect(await clocked.consume(name, rule)).toMatchObject({ allowed: true });
  });

  it('frees units on the Redis server clock after the reported retry delay', async () => {
    const name = bucket('server-clock');
    const rule = { limit: 2, windowSeconds: 0.3 };
    await limiter.consume(name, rule);
    await limiter.consume(name, rule);
    const refused = await limiter.consume(name, rule);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(300);

    // Nothing to await but time itself: wait the delay the limiter reported, then it must allow again.
    await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs + 5));
    expect((await limiter.consume(name, rule)).allowed).toBe(true);
  });

  it('takes `cost` units at once and refuses a cost that does not fit without taking anything', async () => {
    const name = bucket('cost');
    const rule = { limit: 5, windowSeconds: 60 };
    expect(await clocked.consume(name, { ...rule, cost: 3 })).toMatchObject({ allowed: true, remaining: 2 });
    expect(await clocked.consume(name, { ...rule, cost: 3 })).toMatchObject({ allowed: false, remaining: 2, retryAfterSeconds: 60 });
    expect(await clocked.consume(name, { ...rule, cost: 2 })).toMatchObject({ allowed: true, remaining: 0 });
    expect(await clocked.consume(bucket('too-big'), { ...rule, cost: 6 })).toMatchObject({ allowed: false, remaining: 5 });
  });

  it('peeks without taking a unit', async () => {
    const name = bucket('peek');
    const rule = { limit: 1, windowSeconds: 60 };
    expect(await limiter.peek(name, rule)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.peek(name, rule)).toMatchObject({ allowed: true, remaining: 1 });
    await limiter.consume(name, rule);
    expect(await limiter.peek(name, rule)).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('starts a bucket afresh after reset', async () => {
    const name = bucket('login:account');
    const rule = { limit: 2, windowSeconds: 900 };
    await limiter.consume(name, rule);
    await limiter.consume(name, rule);
    expect((await limiter.consume(name, rule)).allowed).toBe(false);

    await limiter.reset(name);

    expect(await limiter.consume(name, rule)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('keeps buckets independent', async () => {
    const a = bucket('ip');
    const b = bucket('ip');
    const rule = { limit: 1, windowSeconds: 60 };
    expect((await limiter.consume(a, rule)).allowed).toBe(true);
    expect((await limiter.consume(a, rule)).allowed).toBe(false);
    expect((await limiter.consume(b, rule)).allowed).toBe(true);
  });

  it('lets a bucket expire from Redis one window after its last unit', async () => {
    const name = bucket('ttl');
    await limiter.consume(name, { limit: 5, windowSeconds: 30 });
    const keys = await redis.keys(`${redis.keyPrefix}gpuaas:rl:*`);
    const ttls = await Promise.all(keys.map((key) => redis.pttl(key.slice(redis.keyPrefix.length))));
    expect(ttls.some((ttl) => ttl > 29_000 && ttl <= 30_000)).toBe(true);
    expect(keys.every((key) => /rl:[0-9a-f]{64}$/.test(key))).toBe(true);
  });

  it('assertAllowed throws 429 rate_limited with retry_after_seconds once the limit is reached', async () => {
    const name = bucket('assert');
    const rule = { limit: 1, windowSeconds: 42 };
    await expect(clocked.assertAllowed(name, rule)).resolves.toMatchObject({ allowed: true });

    const refusal = await clocked.assertAllowed(name, rule).catch((error: unknown) => error);

    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ code: 'rate_limited', message: 'Too many requests', details: { retry_after_seconds: 42 } });
    expect((refusal as AppError).httpStatus).toBe(429);
  });

  it('rejects a limit, window or cost that is not positive', async () => {
    await expect(limiter.consume('x', { limit: 0, windowSeconds: 1 })).rejects.toThrow(RangeError);
    await expect(limiter.consume('x', { limit: 1, windowSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(limiter.consume('x', { limit: 1, windowSeconds: 1, cost: 0 })).rejects.toThrow(RangeError);
  });
});

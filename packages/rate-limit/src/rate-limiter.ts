import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '@gpuaas/errors';
import { slidingWindowScript } from './sliding-window.js';

export interface RateLimit {
  /** Units allowed within any window of `windowSeconds`. */
  readonly limit: number;
  readonly windowSeconds: number;
  /** Units this request takes. Default 1. */
  readonly cost?: number;
}

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Units still available in the current window (after this request when it was allowed). */
  readonly remaining: number;
  /** 0 when allowed; otherwise when enough units free up for this request (whole seconds, at least 1). */
  readonly retryAfterSeconds: number;
  readonly retryAfterMs: number;
}

export interface RateLimiterOptions {
  readonly redis: Redis;
  /** Deployment-wide prefix (REDIS_KEY_PREFIX); the limiter adds `rl:` below it. */
  readonly keyPrefix: string;
  /** Clock in epoch ms. Default: the Redis server's clock, shared by every replica. Tests inject their own. */
  readonly now?: () => number;
}

export interface RateLimiter {
  /** Takes `cost` units from the bucket when they fit; a refused request takes nothing. */
  consume(bucket: string, limit: RateLimit): Promise<RateLimitDecision>;
  /** Whether `cost` units would fit now, without taking them (e.g. refuse a login early when the account is locked). */
  peek(bucket: string, limit: RateLimit): Promise<RateLimitDecision>;
  /** Forgets the bucket's history, e.g. the per-account failure counter after a successful login. */
  reset(bucket: string): Promise<void>;
  /** `consume`, throwing `429 rate_limited` with `details.retry_after_seconds` when refused. */
  assertAllowed(bucket: string, limit: RateLimit): Promise<RateLimitDecision>;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { redis, keyPrefix, now } = options;
  // Bucket names carry emails and IPs; hashing keeps personal data out of key names and bounds their length.
  const keyOf = (bucket: string) => `${keyPrefix}rl:${createHash('sha256').update(bucket).digest('hex')}`;

  async function decide(bucket: string, limit: RateLimit, record: boolean): Promise<RateLimitDecision> {
    const { max, windowMs, cost } = validated(limit);
    const [allowed, remaining, retryAfterMs] = (await slidingWindowScript.run(
      redis,
      [keyOf(bucket)],
      [max, windowMs, cost, now ? Math.floor(now()) : '', randomUUID(), record ? '1' : '0'],
    )) as [number, number, number];
    const waitMs = allowed === 1 ? 0 : Math.max(1, retryAfterMs);
    return {
      allowed: allowed === 1,
      remaining: Math.max(0, remaining),
      retryAfterMs: waitMs,
      retryAfterSeconds: Math.ceil(waitMs / 1000),
    };
  }

  const limiter: RateLimiter = {
    consume: (bucket, limit) => decide(bucket, limit, true),
    peek: (bucket, limit) => decide(bucket, limit, false),
    async reset(bucket) {
      await redis.del(keyOf(bucket));
    },
    async assertAllowed(bucket, limit) {
      const decision = await limiter.consume(bucket, limit);
      if (!decision.allowed) {
        throw new AppError('rate_limited', 'Too many requests', { retry_after_seconds: decision.retryAfterSeconds });
      }
      return decision;
    },
  };
  return limiter;
}

function validated(limit: RateLimit): { max: number; windowMs: number; cost: number } {
  const cost = limit.cost ?? 1;
  if (!Number.isInteger(limit.limit) || limit.limit < 1) throw new RangeError('limit must be a positive integer');
  if (!Number.isFinite(limit.windowSeconds) || limit.windowSeconds <= 0) throw new RangeError('windowSeconds must be positive');
  if (!Number.isInteger(cost) || cost < 1) throw new RangeError('cost must be a positive integer');
  return { max: limit.limit, windowMs: Math.max(1, Math.round(limit.windowSeconds * 1000)), cost };
}

import { AppError } from '@gpuaas/errors';
import type { RateLimit } from '@gpuaas/rate-limit';
import { callerIp, type AccessDeps, type Caller } from './deps.js';

export const FIFTEEN_MINUTES = 900;

/**
 * Adding members by email could probe which addresses have accounts; this bounds it per caller. Not an operator
 * policy yet (doc/policies.md has no key for it), so it is a constant here.
 */
export const MEMBER_ADDS_PER_CALLER_PER_15M = 60;

/** Per client IP: every attempt of an anonymous operation counts (`login_attempts_per_ip_per_15m`). */
export function ipLimit(deps: AccessDeps): RateLimit {
  return { limit: deps.config.policies.login_attempts_per_ip_per_15m, windowSeconds: FIFTEEN_MINUTES };
}

/** Per account (the email as typed, lower-cased, so unknown emails behave like known ones). */
export function accountLimit(deps: AccessDeps): RateLimit {
  return { limit: deps.config.policies.login_attempts_per_account_per_15m, windowSeconds: FIFTEEN_MINUTES };
}

/** Counts one attempt of `action` for the caller's IP; skipped when the gateway did not pass an IP. */
export async function limitPerIp(deps: AccessDeps, caller: Caller, action: string): Promise<void> {
  const ip = callerIp(caller);
  if (ip !== null) await deps.rateLimiter.assertAllowed(`${action}:ip:${ip}`, ipLimit(deps));
}

export async function limitPerEmail(deps: AccessDeps, action: string, email: string): Promise<void> {
  await deps.rateLimiter.assertAllowed(`${action}:email:${email.toLowerCase()}`, accountLimit(deps));
}

/** The per-account failed-login bucket; wrong current passwords on a password change count here too. */
export const failedLoginBucket = (email: string) => `login-failures:account:${email.toLowerCase()}`;

/** Refuses early, without taking a unit, when the account already used up its failed attempts. */
export async function assertAccountNotLocked(deps: AccessDeps, email: string): Promise<void> {
  const decision = await deps.rateLimiter.peek(failedLoginBucket(email), accountLimit(deps));
  if (!decision.allowed) throw new AppError('rate_limited', 'Too many failed attempts', { retry_after_seconds: decision.retryAfterSeconds });
}

export async function countFailedLogin(deps: AccessDeps, email: string): Promise<void> {
  // ci-allow observability_trace_gate: takes a rate-limit unit in Redis, not an event consumer
  await deps.rateLimiter.consume(failedLoginBucket(email), accountLimit(deps));
}

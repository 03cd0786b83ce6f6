import {
  REFRESH_TOKEN_PREFIX,
  decideRefresh,
  generateRefreshToken,
  hasTokenShape,
  hashToken,
  issueAccessToken,
  refreshRejectionError,
  type PlatformRole,
  type RefreshDecision,
} from '@gpuaas/auth';
import { uuidv7, withTransaction } from '@gpuaas/db';
import { AppError, Validation } from '@gpuaas/errors';
import type { Db } from '../repositories/db.js';
import {
  findRefreshTokenByHash,
  insertRefreshToken,
  lockRefreshTokenByHash,
  markRefreshTokenUsed,
  revokeAllFamilies,
  revokeFamily,
} from '../repositories/refresh-tokens.js';
import { findUserView, touchLastLogin } from '../repositories/users.js';
import { requireActor } from './actor.js';
import { callerIp, type AccessDeps, type Caller } from './deps.js';
import { FIFTEEN_MINUTES } from './rate-limits.js';

export interface TokenPair {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
}

export interface SessionUser {
  readonly id: string;
  readonly role: PlatformRole;
  readonly tokenVersion: number;
}

const refreshTtlSeconds = (deps: AccessDeps) => deps.config.policies.refresh_token_ttl_days * 86_400;

async function pairFor(deps: AccessDeps, user: SessionUser, familyId: string, refreshToken: string): Promise<TokenPair> {
  const { config } = deps;
  const access = await issueAccessToken({
    key: deps.signingKeys.current(),
    userId: user.id,
    role: user.role,
    tokenVersion: user.tokenVersion,
    sessionId: familyId,
    ttlSeconds: config.policies.access_token_ttl_seconds,
    issuer: config.tokenIssuer,
    audience: config.tokenAudience,
  });
  return { accessToken: access.token, tokenType: 'Bearer', expiresIn: access.expiresIn, refreshToken, refreshExpiresIn: refreshTtlSeconds(deps) };
}

/**
 * A new login session (refresh-token family) inside the caller's transaction: registration, password login and
 * OIDC login all end here. The family id is the access token's `sid`, so logout can cut both at once.
 */
export async function startSession(deps: AccessDeps, db: Db, user: SessionUser): Promise<TokenPair> {
  const familyId = uuidv7();
  const refresh = generateRefreshToken();
  await insertRefreshToken(db, user.id, {
    id: uuidv7(),
    familyId,
    parentId: null,
    tokenHash: refresh.hash,
    expiresAt: new Date(Date.now() + refreshTtlSeconds(deps) * 1000),
  });
  await touchLastLogin(db, user.id);
  return pairFor(deps, user, familyId, refresh.token);
}

type RefreshOutcome =
  | { readonly kind: 'rotated'; readonly tokens: TokenPair }
  | { readonly kind: 'suspended' }
  | { readonly kind: 'rejected'; readonly decision: Exclude<RefreshDecision, { action: 'rotate' }> };

/**
 * Rotates a refresh token. Reuse of a retired token is theft until proven otherwise: the whole family is revoked
 * (committed before the error is answered) and its access tokens are denied at the gateway. Failed attempts count
 * against the client's IP, so guessing tokens is throttled while busy offices refreshing normally are not.
 */
export async function refreshTokens(deps: AccessDeps, caller: Caller, presented: string): Promise<TokenPair> {
  const ip = callerIp(caller);
  const ipBucket = ip === null ? null : `refresh-failures:ip:${ip}`;
  const ipLimit = { limit: deps.config.policies.login_attempts_per_ip_per_15m, windowSeconds: FIFTEEN_MINUTES };
  if (ipBucket) {
    const decision = await deps.rateLimiter.peek(ipBucket, ipLimit);
    if (!decision.allowed) throw new AppError('rate_limited', 'Too many requests', { retry_after_seconds: decision.retryAfterSeconds });
  }

  const outcome = hasTokenShape(presented, REFRESH_TOKEN_PREFIX)
    ? await rotate(deps, hashToken(presented))
    : ({ kind: 'rejected', decision: { action: 'reject_unknown' } } as const);

  if (outcome.kind === 'rotated') return outcome.tokens;
  // ci-allow observability_trace_gate: takes a rate-limit unit in Redis, not an event consumer
  if (ipBucket) await deps.rateLimiter.consume(ipBucket, ipLimit);
  if (outcome.kind === 'suspended') throw new AppError('account_suspended', 'The account is suspended');
  if (outcome.decision.action === 'reject_reused_revoke_family') {
    await deps.revocations.revokeSession(outcome.decision.familyId, deps.config.policies.access_token_ttl_seconds);
  }
  throw refreshRejectionError(outcome.decision);
}

async function rotate(deps: AccessDeps, tokenHash: string): Promise<RefreshOutcome> {
  return withTransaction(deps.pool, async (client): Promise<RefreshOutcome> => {
    // The token row is locked first and the user row only read: suspension locks the user and then the tokens,
    // and taking both here in the other order could deadlock with it.
    const record = await lockRefreshTokenByHash(client, tokenHash);
    if (!record) return { kind: 'rejected', decision: { action: 'reject_unknown' } };
    const user = await findUserView(client, record.userId);
    if (!user) return { kind: 'rejected', decision: { action: 'reject_unknown' } };
    if (user.status === 'suspended') return { kind: 'suspended' };

    const decision = decideRefresh(record, { now: new Date(), ttlSeconds: refreshTtlSeconds(deps) });
    if (decision.action === 'reject_reused_revoke_family') {
      await revokeFamily(client, user.id, decision.familyId, 'reuse_detected');
      return { kind: 'rejected', decision };
    }
    if (decision.action !== 'rotate') return { kind: 'rejected', decision };

    const refresh = generateRefreshToken();
    await markRefreshTokenUsed(client, user.id, record.id);
    await insertRefreshToken(client, user.id, {
      id: uuidv7(),
      familyId: decision.familyId,
      parentId: record.id,
      tokenHash: refresh.hash,
      expiresAt: decision.childExpiresAt,
    });
    await touchLastLogin(client, user.id);
    return { kind: 'rotated', tokens: await pairFor(deps, user, decision.familyId, refresh.token) };
  });
}

export interface LogoutInput {
  readonly refreshToken?: string | null | undefined;
  readonly allSessions?: boolean | null | undefined;
}

/**
 * Ends the session of the given refresh token (it must be the caller's), or the session the access token belongs
 * to, or with `allSessions` every session of the caller. Already revoked sessions log out again without error.
 */
export async function logout(deps: AccessDeps, caller: Caller, input: LogoutInput): Promise<boolean> {
  const actor = await requireActor(deps, caller);
  const ttl = deps.config.policies.access_token_ttl_seconds;
  if (input.allSessions) {
    const revoked = await revokeAllFamilies(deps.pool, actor.userId, 'logout');
    await deps.revocations.revokeSessions([...new Set([...revoked.familyIds, actor.sessionId])], ttl);
    return true;
  }
  let familyId = actor.sessionId;
  if (input.refreshToken !== undefined && input.refreshToken !== null) {
    const record = hasTokenShape(input.refreshToken, REFRESH_TOKEN_PREFIX)
      ? await findRefreshTokenByHash(deps.pool, actor.userId, hashToken(input.refreshToken))
      : null;
    if (!record) throw Validation([{ field: 'body.refresh_token', message: 'is not a refresh token of this account' }]);
    familyId = record.familyId;
  }
  await revokeFamily(deps.pool, actor.userId, familyId, 'logout');
  await deps.revocations.revokeSession(familyId, ttl);
  return true;
}

import type { Redis } from 'ioredis';
import { AppError } from '@gpuaas/errors';

/** Why a user's older tokens were cut off; `account_suspended` lets the gateway answer 403 instead of 401. */
export type UserRevocationCause = 'tokens_revoked' | 'account_suspended';
export type RevocationReason = UserRevocationCause | 'session_revoked';

export type RevocationCheck = { readonly revoked: false } | { readonly revoked: true; readonly reason: RevocationReason };

export interface AccessTokenIdentity {
  readonly userId: string;
  readonly tokenVersion: number;
  readonly sessionId: string;
}

export interface TokenRevocationStore {
  /**
   * Every token of `userId` with a token version below `tokenVersion` stops working (call it after bumping
   * `access.users.token_version` to `tokenVersion`). Keep it for the access-token lifetime: by then they expired anyway.
   * The mark only ever moves up, so a late, older call cannot resurrect tokens.
   */
  markUserTokensRevokedBefore(userId: string, tokenVersion: number, ttlSeconds: number, cause?: UserRevocationCause): Promise<void>;
  isRevoked(userId: string, tokenVersion: number): Promise<boolean>;
  /** Logout: access tokens of this session (refresh family) stop working at once. */
  revokeSession(sessionId: string, ttlSeconds: number): Promise<void>;
  revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void>;
  isSessionRevoked(sessionId: string): Promise<boolean>;
  /** Both checks in one MGET: what the gateway runs on every request after verifying the JWT. */
  check(token: AccessTokenIdentity): Promise<RevocationCheck>;
  /** `check`, throwing the catalog error the gateway answers with. */
  assertNotRevoked(token: AccessTokenIdentity): Promise<void>;
}

const SUSPENDED_SUFFIX = ':suspended';

// Compare-and-raise in one step: SET only when the new version is higher; an equal one may extend the TTL.
const RAISE_MARK = `
local current = redis.call('GET', KEYS[1])
local wanted = tonumber(ARGV[1])
local held = current and tonumber(string.match(current, '^%d+')) or nil
if held == nil or held < wanted then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
if held == wanted then
  if redis.call('TTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
  if ARGV[2] ~= current and string.find(ARGV[2], ':') then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') end
end
return 0
`;

function requireId(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}

function requireTtl(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new TypeError('ttlSeconds must be a positive integer');
}

function requireVersion(tokenVersion: number): void {
  if (!Number.isSafeInteger(tokenVersion) || tokenVersion < 0) throw new TypeError('tokenVersion must be a non-negative integer');
}

function parseMark(value: string | null): { version: number; cause: UserRevocationCause } | null {
  if (value === null) return null;
  const version = Number.parseInt(value, 10);
  if (!Number.isSafeInteger(version)) return null;
  return { version, cause: value.endsWith(SUSPENDED_SUFFIX) ? 'account_suspended' : 'tokens_revoked' };
}

/**
 * Redis-backed deny marks. Keys: `<prefix>user-revoked-before:<userId>` holds the lowest still valid token
 * version, `<prefix>session-revoked:<sessionId>` exists for a logged-out session. On Redis Cluster the MGET would
 * need both keys in one slot; this assumes a single primary (with replicas), as the platform runs today.
 */
export function createTokenRevocationStore(redis: Redis, prefix: string): TokenRevocationStore {
  const userKey = (userId: string) => `${prefix}user-revoked-before:${userId}`;
  const sessionKey = (sessionId: string) => `${prefix}session-revoked:${sessionId}`;

  const check = async (token: AccessTokenIdentity): Promise<RevocationCheck> => {
    const [userMark, sessionMark] = await redis.mget(userKey(token.userId), sessionKey(token.sessionId));
    const mark = parseMark(userMark ?? null);
    if (mark && token.tokenVersion < mark.version) return { revoked: true, reason: mark.cause };
    if (sessionMark !== null && sessionMark !== undefined) return { revoked: true, reason: 'session_revoked' };
    return { revoked: false };
  };

  return {
    async markUserTokensRevokedBefore(userId, tokenVersion, ttlSeconds, cause = 'tokens_revoked') {
      requireId('userId', userId);
      requireVersion(tokenVersion);
      requireTtl(ttlSeconds);
      const value = cause === 'account_suspended' ? `${tokenVersion}${SUSPENDED_SUFFIX}` : String(tokenVersion);
      await redis.eval(RAISE_MARK, 1, userKey(userId), tokenVersion, value, ttlSeconds);
    },

    async isRevoked(userId, tokenVersion) {
      requireId('userId', userId);
      const mark = parseMark(await redis.get(userKey(userId)));
      return mark !== null && tokenVersion < mark.version;
    },

    async revokeSession(sessionId, ttlSeconds) {
      requireId('sessionId', sessionId);
      requireTtl(ttlSeconds);
      await redis.set(sessionKey(sessionId), '1', 'EX', ttlSeconds);
    },

    async revokeSessions(sessionIds, ttlSeconds) {
      requireTtl(ttlSeconds);
      if (sessionIds.length === 0) return;
      const pipeline = redis.multi();
      for (const sessionId of sessionIds) {
        requireId('sessionId', sessionId);
        pipeline.set(sessionKey(sessionId), '1', 'EX', ttlSeconds);
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed) throw failed[0];
    },

    async isSessionRevoked(sessionId) {
      requireId('sessionId', sessionId);
      return (await redis.exists(sessionKey(sessionId))) === 1;
    },

    check,

    async assertNotRevoked(token) {
      const result = await check(token);
      if (!result.revoked) return;
      if (result.reason === 'account_suspended') throw new AppError('account_suspended', 'The account is suspended');
      throw new AppError('unauthenticated', 'The access token has been revoked', { reason: result.reason });
    },
  };
}

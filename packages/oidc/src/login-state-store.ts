import type { Redis } from 'ioredis';
import { loginRefused } from './oidc-errors.js';

/** What the server keeps between redirecting to the provider and receiving its callback. */
export interface PendingLogin {
  provider: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface LoginStateStore {
  save(state: string, login: PendingLogin): Promise<void>;
  /**
   * Returns the login saved under `state` and deletes it in the same step, so a state works once;
   * an unknown, expired or already used state is `invalid_credentials` with reason `state_unknown`.
   */
  consume(state: string): Promise<PendingLogin>;
}

export type LoginStateRedis = Pick<Redis, 'set' | 'getdel'>;

// openid-client's random state is 43 base64url characters; anything far off that is not ours.
const STATE_SHAPE = /^[A-Za-z0-9_-]{16,128}$/;

export function createLoginStateStore(redis: LoginStateRedis, prefix: string, ttlSeconds = 600): LoginStateStore {
  const key = (state: string) => `${prefix}oidc-login:${state}`;
  return {
    async save(state, login) {
      if (!STATE_SHAPE.test(state)) throw new TypeError('state must be 16-128 base64url characters');
      const stored: PendingLogin = {
        provider: login.provider,
        nonce: login.nonce,
        codeVerifier: login.codeVerifier,
        redirectUri: login.redirectUri,
      };
      // NX: a state is never reused, even if a caller saves the same one twice.
      const saved = await redis.set(key(state), JSON.stringify(stored), 'EX', ttlSeconds, 'NX');
      if (saved !== 'OK') throw new Error('login state already saved');
    },

    async consume(state) {
      if (!STATE_SHAPE.test(state)) throw loginRefused('state_unknown');
      const raw = await redis.getdel(key(state));
      const login = raw === null ? undefined : parsePendingLogin(raw);
      if (!login) throw loginRefused('state_unknown');
      return login;
    },
  };
}

function parsePendingLogin(raw: string): PendingLogin | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const fields = ['provider', 'nonce', 'codeVerifier', 'redirectUri'] as const;
  if (!fields.every((field) => typeof record[field] === 'string')) return undefined;
  return {
    provider: record.provider as string,
    nonce: record.nonce as string,
    codeVerifier: record.codeVerifier as string,
    redirectUri: record.redirectUri as string,
  };
}

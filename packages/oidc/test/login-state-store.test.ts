import { randomBytes } from 'node:crypto';
import { createTestRedis, type TestRedis } from '@gpuaas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginStateStore, type LoginStateStore, type PendingLogin } from '../src/index.js';
import { refusal } from './support.js';

const PREFIX = 'state-store-test:';
const newState = () => randomBytes(32).toString('base64url');
const pending: PendingLogin = {
  provider: 'google',
  nonce: randomBytes(32).toString('base64url'),
  codeVerifier: randomBytes(32).toString('base64url'),
  redirectUri: 'https://console.gpuaas.test/auth/callback',
};

let redis: TestRedis;
let store: LoginStateStore;

beforeAll(async () => {
  redis = await createTestRedis();
  store = createLoginStateStore(redis, PREFIX, 600);
});

afterAll(async () => {
  await redis?.cleanup();
});

describe('login state store', () => {
  it('returns the saved login once and then treats the state as unknown', async () => {
    const state = newState();
    await store.save(state, pending);

    expect(await store.consume(state)).toEqual(pending);
    const replay = await refusal(store.consume(state));
    expect(replay.code).toBe('invalid_credentials');
    expect(replay.details?.reason).toBe('state_unknown');
  });

  it('lets exactly one of several concurrent callbacks consume a state', async () => {
    const state = newState();
    await store.save(state, pending);

    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => store.consume(state)));

    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(7);
  });

  it('stores a state with the configured expiry', async () => {
    const state = newState();
    await store.save(state, pending);

    const keys = await redis.keys(`${redis.keyPrefix}${PREFIX}*${state}`);
    expect(keys).toHaveLength(1);
    const ttl = await redis.ttl((keys[0] ?? '').slice(redis.keyPrefix.length));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('forgets a state once its expiry has passed', async () => {
    const shortLived = createLoginStateStore(redis, PREFIX, 1);
    const state = newState();
    await shortLived.save(state, pending);
    const [key = ''] = await redis.keys(`${redis.keyPrefix}${PREFIX}*${state}`);

    await expect.poll(() => redis.exists(key.slice(redis.keyPrefix.length)), { timeout: 5_000, interval: 100 }).toBe(0);
    const error = await refusal(shortLived.consume(state));
    expect(error.details?.reason).toBe('state_unknown');
  });

  it('refuses a state that was never issued and one that is malformed', async () => {
    const neverIssued = await refusal(store.consume(newState()));
    const malformed = await refusal(store.consume('../../etc'));

    expect(neverIssued.details?.reason).toBe('state_unknown');
    expect(malformed.details?.reason).toBe('state_unknown');
  });
});

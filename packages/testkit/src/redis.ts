import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export interface TestRedisOptions {
  url?: string;
}

/** An ioredis client whose keys all live under a prefix unique to this test, plus a cleanup that deletes them. */
export type TestRedis = Redis & {
  /** Pass this as REDIS_KEY_PREFIX to the code under test so its keys are cleaned up too. */
  readonly keyPrefix: string;
  readonly url: string;
  /** Deletes every key under the prefix and closes the client. */
  cleanup(): Promise<void>;
};

export async function createTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const keyPrefix = `test:${randomBytes(6).toString('hex')}:`;
  const client = new Redis(url, { keyPrefix, lazyConnect: true, maxRetriesPerRequest: 3 });
  await client.connect();
  const cleanup = async () => {
    if (client.status === 'end') return;
    // SCAN's MATCH is not prefixed by ioredis but DEL is, so strip the prefix from what SCAN returns.
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys.map((key) => key.slice(keyPrefix.length)));
    } while (cursor !== '0');
    await client.quit();
  };
  return Object.assign(client, { keyPrefix, url, cleanup });
}

import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@gpuaas/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningKeys } from '../src/services/signing-keys.js';

let db: TestDatabase;
let pools: pg.Pool[];

beforeAll(async () => {
  db = await createTestDatabase();
  pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: db.url, max: 2 }));
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await db?.drop();
});

describe('signing keys', () => {
  it('end up as one key when several replicas start on an empty table at once', async () => {
    const stores = await Promise.all(pools.map((pool) => loadSigningKeys(pool, { accessTokenTtlSeconds: 900 })));
    const kids = new Set(stores.map((store) => store.current().kid));
    expect(kids.size).toBe(1);
    const { rows } = await (pools[0] as pg.Pool).query('SELECT kid FROM access.signing_keys');
    expect(rows).toEqual([{ kid: [...kids][0] }]);
  });

  it('are reused after a restart and published without private members', async () => {
    const before = await loadSigningKeys(pools[0] as pg.Pool, { accessTokenTtlSeconds: 900 });
    const after = await loadSigningKeys(pools[1] as pg.Pool, { accessTokenTtlSeconds: 900 });
    expect(after.current().kid).toBe(before.current().kid);
    const jwks = await after.jwks();
    expect(jwks.keys.map((key) => key.kid)).toEqual([before.current().kid]);
    expect(Object.keys(jwks.keys[0] ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
  });
});

import { defineEntity, p } from '@mikro-orm/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@gpuaas/testkit';
import { checkDatabase, createOrm, recordAudit, uuidv7, withDatabaseName, withTransaction } from '../src/index.js';

// A minimal entity over a real table, to prove createOrm maps into the domain's schema.
const OsImage = defineEntity({
  name: 'OsImage',
  tableName: 'os_images',
  properties: {
    id: p.uuid().primary(),
    name: p.string(),
    version: p.string(),
    family: p.string(),
    imageRef: p.string(),
    status: p.string(),
  },
});

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function auditRows(action: string): Promise<Array<{ actor_kind: string; target_id: string; details: unknown }>> {
  const { rows } = await pool.query('SELECT actor_kind, target_id, details FROM infra.audit_logs WHERE action = $1', [action]);
  return rows;
}

describe('recordAudit with a pg client', () => {
  it('commits the audit row with the transaction that made the change', async () => {
    const target = uuidv7();
    await withTransaction(pool, (client) =>
      recordAudit(client, {
        domain: 'access',
        actorKind: 'admin',
        actorId: uuidv7(),
        action: 'user.suspend',
        targetType: 'user',
        targetId: target,
        correlationId: 'corr-1',
        details: { reason: 'abuse' },
      }),
    );
    expect(await auditRows('user.suspend')).toEqual([{ actor_kind: 'admin', target_id: target, details: { reason: 'abuse' } }]);
  });

  it('leaves no audit row when the transaction rolls back', async () => {
    await expect(
      withTransaction(pool, async (client) => {
        await recordAudit(client, { domain: 'billing', actorKind: 'system', action: 'wallet.freeze', targetType: 'wallet' });
        throw new Error('the privileged change failed');
      }),
    ).rejects.toThrow('the privileged change failed');
    expect(await auditRows('wallet.freeze')).toEqual([]);
  });

  it('is refused a user actor without an actor id', async () => {
    await expect(
      withTransaction(pool, (client) =>
        recordAudit(client, { domain: 'compute', actorKind: 'user', action: 'allocation.release', targetType: 'allocation' }),
      ),
    ).rejects.toMatchObject({ constraint: 'audit_logs_actor_check' });
  });
});

describe('createOrm and recordAudit with an EntityManager', () => {
  it('writes entity and audit row in one em.transactional, and refuses to audit outside a transaction', async () => {
    const orm = await createOrm({ databaseUrl: db.url, schema: 'platform', entities: [OsImage] });
    try {
      const imageId = uuidv7();
      await orm.em.fork().transactional(async (em) => {
        em.create(OsImage, { id: imageId, name: 'ubuntu', version: '24.04', family: 'ubuntu', imageRef: 'img://ubuntu-24.04', status: 'active' });
        await em.flush();
        await recordAudit(em, {
          domain: 'platform',
          actorKind: 'admin',
          actorId: uuidv7(),
          action: 'os_image.create',
          targetType: 'os_image',
          targetId: imageId,
          details: { name: 'ubuntu' },
        });
      });
      const { rows } = await pool.query('SELECT name FROM platform.os_images WHERE id = $1', [imageId]);
      expect(rows).toEqual([{ name: 'ubuntu' }]);
      expect(await auditRows('os_image.create')).toHaveLength(1);

      await expect(
        recordAudit(orm.em.fork(), { domain: 'platform', actorKind: 'system', action: 'os_image.prune', targetType: 'os_image' }),
      ).rejects.toThrow(/open transaction/);
      expect(await auditRows('os_image.prune')).toEqual([]);
    } finally {
      await orm.close(true);
    }
  });
});

describe('checkDatabase', () => {
  it('resolves for a reachable database, with a url or a pool', async () => {
    await expect(checkDatabase(db.url)).resolves.toBeUndefined();
    await expect(checkDatabase(pool)).resolves.toBeUndefined();
  });

  it('rejects with a reason for a database that does not exist', async () => {
    await expect(checkDatabase(withDatabaseName(db.url, `${db.name}_missing`))).rejects.toThrow(/postgres not ready/);
  });
});

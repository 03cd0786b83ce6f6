import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@gpuaas/testkit';
import { uuidv7 } from '../src/index.js';

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

async function insertWallet(currency = 'EUR'): Promise<string> {
  const id = uuidv7();
  await client.query(`INSERT INTO billing.wallets (id, owner_kind, owner_id, currency) VALUES ($1, 'user', $2, $3)`, [
    id,
    uuidv7(),
    currency,
  ]);
  return id;
}

async function insertAdminCredit(walletId: string, amount: number, key = uuidv7(), currency = 'EUR'): Promise<string> {
  const id = uuidv7();
  await client.query(
    // A posting is double-entry: the wallet leg and its counter-leg on the credit-grants account, one transaction.
    `INSERT INTO billing.ledger_entries (id, transaction_id, account, wallet_id, kind, amount_minor, currency, actor_id, idempotency_key)
     VALUES ($1, $2, 'wallet', $3, 'admin_credit', $4, $5, $6, $7),
            ($8, $2, 'credit_grants', NULL, 'admin_credit', -$4::bigint, $5, $6, $7)`,
    [id, uuidv7(), walletId, amount, currency, uuidv7(), key, uuidv7()],
  );
  return id;
}

async function insertSlot(): Promise<{ slotId: string; nodeId: string; profileId: string; regionId: string }> {
  const [regionId, modelId, profileId, nodeId, gpuId, slotId] = [uuidv7(), uuidv7(), uuidv7(), uuidv7(), uuidv7(), uuidv7()];
  const suffix = slotId.slice(-12);
  await client.query(`INSERT INTO compute.regions (id, code, name) VALUES ($1, $2, 'Test')`, [regionId, `r-${suffix}`]);
  await client.query(
    `INSERT INTO compute.gpu_models (id, code, name, memory_bytes, mig_capable) VALUES ($1, $2, 'H100', 85899345920, true)`,
    [modelId, `h100-${suffix}`],
  );
  await client.query(
    `INSERT INTO compute.slice_profiles (id, gpu_model_id, name, memory_bytes, compute_sevenths) VALUES ($1, $2, '1g.10gb', 10737418240, 1)`,
    [profileId, modelId],
  );
  await client.query(`INSERT INTO compute.nodes (id, hostname, region_id, state) VALUES ($1, $2, $3, 'active')`, [
    nodeId,
    `node-${suffix}`,
    regionId,
  ]);
  await client.query(
    `INSERT INTO compute.node_gpus (id, node_id, device_index, gpu_uuid, gpu_model_id, model, memory_bytes, mig_mode)
     VALUES ($1, $2, 0, $3, $4, 'NVIDIA H100 80GB HBM3', 85899345920, 'enabled')`,
    [gpuId, nodeId, `GPU-${suffix}`, modelId],
  );
  await client.query(
    `INSERT INTO compute.slots (id, node_id, node_gpu_id, profile_id, placement_start, placement_size, gpu_instance_id)
     VALUES ($1, $2, $3, $4, 0, 1, 9)`,
    [slotId, nodeId, gpuId, profileId],
  );
  return { slotId, nodeId, profileId, regionId };
}

async function insertAllocation(slot: Awaited<ReturnType<typeof insertSlot>>, state: string): Promise<string> {
  const id = uuidv7();
  const stamps: Record<string, string> = { active: 'active_at', released: 'released_at', failed: 'failed_at' };
  const stamp = stamps[state];
  await client.query(
    `INSERT INTO compute.allocations (id, project_id, user_id, name, profile_id, region_id, os_image_id, node_id, slot_id,
       state, hourly_amount_minor, currency${stamp ? `, ${stamp}` : ''})
     VALUES ($1, $2, $3, 'train', $4, $5, $6, $7, $8, $9, 250, 'EUR'${stamp ? ', now()' : ''})`,
    [id, uuidv7(), uuidv7(), slot.profileId, slot.regionId, uuidv7(), slot.nodeId, slot.slotId, state],
  );
  return id;
}

describe('ledger entries', () => {
  it('are refused an UPDATE', async () => {
    const entry = await insertAdminCredit(await insertWallet(), 500);
    await expect(client.query('UPDATE billing.ledger_entries SET amount_minor = 5000 WHERE id = $1', [entry])).rejects.toMatchObject({
      code: '23001',
      message: expect.stringContaining('immutable'),
    });
  });

  it('are refused a DELETE and a TRUNCATE, and the balance stays the sum of entries', async () => {
    const wallet = await insertWallet();
    await insertAdminCredit(wallet, 500);
    await insertAdminCredit(wallet, 250);
    await expect(client.query('DELETE FROM billing.ledger_entries WHERE wallet_id = $1', [wallet])).rejects.toMatchObject({ code: '23001' });
    await expect(client.query('TRUNCATE billing.ledger_entries CASCADE')).rejects.toMatchObject({ code: '23001' });
    const { rows } = await client.query<{ balance: string }>(
      'SELECT sum(amount_minor) AS balance FROM billing.ledger_entries WHERE wallet_id = $1',
      [wallet],
    );
    expect(rows[0]?.balance).toBe('750');
  });

  it('cannot book the same idempotency key twice', async () => {
    const wallet = await insertWallet();
    await insertAdminCredit(wallet, 100, 'tick:once');
    await expect(insertAdminCredit(wallet, 100, 'tick:once')).rejects.toMatchObject({
      code: '23505',
      constraint: 'ledger_entries_idempotency_key',
    });
  });

  it('refuse a credit kind with a negative amount and money in another currency than the wallet', async () => {
    const wallet = await insertWallet('EUR');
    await expect(insertAdminCredit(wallet, -100)).rejects.toMatchObject({ code: '23514', constraint: 'ledger_entries_sign_check' });
    await expect(insertAdminCredit(wallet, 100, uuidv7(), 'USD')).rejects.toMatchObject({
      code: '23503',
      constraint: 'ledger_entries_wallet_fkey',
    });
  });
});

describe('audit logs', () => {
  it('are refused an UPDATE and a DELETE', async () => {
    const id = uuidv7();
    await client.query(
      `INSERT INTO infra.audit_logs (id, domain, actor_kind, actor_id, action, target_type, target_id)
       VALUES ($1, 'access', 'admin', $2, 'user.suspend', 'user', $3)`,
      [id, uuidv7(), uuidv7()],
    );
    await expect(client.query(`UPDATE infra.audit_logs SET action = 'user.unsuspend' WHERE id = $1`, [id])).rejects.toMatchObject({
      code: '23001',
      message: expect.stringContaining('append-only'),
    });
    await expect(client.query('DELETE FROM infra.audit_logs WHERE id = $1', [id])).rejects.toMatchObject({ code: '23001' });
    const { rowCount } = await client.query(`SELECT 1 FROM infra.audit_logs WHERE id = $1 AND action = 'user.suspend'`, [id]);
    expect(rowCount).toBe(1);
  });
});

describe('allocations', () => {
  it('refuse a second live allocation on a slot that is already held', async () => {
    const slot = await insertSlot();
    await insertAllocation(slot, 'active');
    await expect(insertAllocation(slot, 'provisioning')).rejects.toMatchObject({
      code: '23505',
      constraint: 'allocations_slot_live_key',
    });
  });

  it('let a slot be booked again once its previous allocation is released', async () => {
    const slot = await insertSlot();
    const first = await insertAllocation(slot, 'active');
    await client.query(`UPDATE compute.allocations SET state = 'released', released_at = now() WHERE id = $1`, [first]);
    await expect(insertAllocation(slot, 'provisioning')).resolves.toBeTypeOf('string');
  });

  it('let only one of two concurrent placements on the same slot commit', async () => {
    const slot = await insertSlot();
    const racers = [new pg.Client({ connectionString: db.url }), new pg.Client({ connectionString: db.url })];
    await Promise.all(racers.map((racer) => racer.connect()));
    try {
      await Promise.all(racers.map((racer) => racer.query('BEGIN')));
      const insert = (racer: pg.Client) =>
        racer.query(
          `INSERT INTO compute.allocations (id, project_id, user_id, name, profile_id, region_id, os_image_id, node_id, slot_id,
             state, hourly_amount_minor, currency) VALUES ($1, $2, $3, 'race', $4, $5, $6, $7, $8, 'provisioning', 1, 'EUR')`,
          [uuidv7(), uuidv7(), uuidv7(), slot.profileId, slot.regionId, uuidv7(), slot.nodeId, slot.slotId],
        );
      await insert(racers[0]!);
      // The second insert blocks on the first's uncommitted index entry and fails once it commits.
      const second = insert(racers[1]!).then(
        () => 'inserted',
        (error: { constraint?: string }) => error.constraint,
      );
      await racers[0]!.query('COMMIT');
      expect(await second).toBe('allocations_slot_live_key');
      await racers[1]!.query('ROLLBACK');
    } finally {
      await Promise.all(racers.map((racer) => racer.end()));
    }
  });
});

describe('stripe events', () => {
  it('refuse the same Stripe event id twice', async () => {
    const insert = () =>
      client.query(`INSERT INTO billing.stripe_events (id, stripe_event_id, type, payload) VALUES ($1, 'evt_dup_1', 'checkout.session.completed', '{}')`, [
        uuidv7(),
      ]);
    await insert();
    await expect(insert()).rejects.toMatchObject({ code: '23505', constraint: 'stripe_events_stripe_event_id_key' });
  });
});

describe('outbox', () => {
  it('wakes listeners on infra_outbox when events are inserted', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      await listener.query('LISTEN infra_outbox');
      const notified = new Promise<string>((resolve) => listener.once('notification', (message) => resolve(message.channel)));
      await client.query(
        `INSERT INTO infra.outbox (event_id, subject, envelope, correlation_id) VALUES ($1, 'provisioning.requested', '{}', 'c-1')`,
        [uuidv7()],
      );
      expect(await notified).toBe('infra_outbox');
    } finally {
      await listener.end();
    }
  });
});

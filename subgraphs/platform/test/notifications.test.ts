import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '@gpuaas/db';
import type { SubgraphContext } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, type TestDatabase } from '@gpuaas/testkit';
import type { PlatformDeps } from '../src/context.js';
import { notificationSubjects } from '../src/notifications/messages.js';
import { recordEventNotifications } from '../src/notifications/record.js';
import { listMyNotifications, markMyNotificationRead, myNotification, streamMyNotifications } from '../src/notifications/service.js';
import { notificationPayloadsFor } from './support/notification-events.js';

let database: TestDatabase;
let pool: pg.Pool;
let deps: PlatformDeps;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 6 });
  deps = { pool, logger: createLogger('platform-notifications-test', 'silent') };
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const caller = (userId: string): SubgraphContext => ({
  identity: { userId, role: 'user', sessionId: randomUUID(), tokenVersion: 0, correlationId: randomUUID() },
  correlationId: randomUUID(),
});

const event = (subject: string, payload: unknown) => ({ event_id: uuidv7(), event_type: subject, payload });

async function newUser(): Promise<string> {
  const id = uuidv7();
  await pool.query("INSERT INTO access.users (id, email, display_name) VALUES ($1, $2, 'Someone')", [id, `${id}@example.test`]);
  return id;
}

async function newProject(members: Record<string, 'owner' | 'admin' | 'member' | 'viewer'>): Promise<string> {
  const id = uuidv7();
  const owner = Object.entries(members).find(([, role]) => role === 'owner')![0];
  await pool.query("INSERT INTO access.projects (id, name, owner_id) VALUES ($1, 'Team', $2)", [id, owner]);
  for (const [userId, role] of Object.entries(members)) {
    await pool.query('INSERT INTO access.project_members (project_id, user_id, role) VALUES ($1, $2, $3)', [id, userId, role]);
  }
  return id;
}

const countFor = async (userId: string) => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM platform.notifications WHERE user_id = $1', [userId])).rows[0]!.n);

describe('recording notifications from events', () => {
  it('writes exactly one notification per event kind, however often the event is delivered', async () => {
    const owner = await newUser();
    const payloads = notificationPayloadsFor(owner);
    for (const subject of notificationSubjects) {
      const delivered = event(subject, payloads[subject]);
      expect(await recordEventNotifications(pool, delivered)).toEqual({ status: 'recorded', notified: 1, recipients: 1 });
      expect(await recordEventNotifications(pool, delivered)).toEqual({ status: 'recorded', notified: 0, recipients: 1 });
    }
    const { rows } = await pool.query<{ kind: string }>('SELECT kind FROM platform.notifications WHERE user_id = $1 ORDER BY created_at, id', [owner]);
    expect(rows.map((row) => row.kind)).toEqual([
      'allocation_active',
      'allocation_failed',
      'allocation_released',
      'allocation_release_failed',
      'allocation_lost',
      'low_balance_warning',
      'auto_release_pending',
      'balance_depleted',
      'balance_credited',
    ]);
  });

  it('notifies the owners and admins of a project wallet, not its members or viewers', async () => {
    const [owner, admin, member, viewer] = [await newUser(), await newUser(), await newUser(), await newUser()];
    const project = await newProject({ [owner]: 'owner', [admin]: 'admin', [member]: 'member', [viewer]: 'viewer' });
    const payload = { ...notificationPayloadsFor(owner)['billing.low_balance_warning'], owner: { kind: 'project', id: project } };
    expect(await recordEventNotifications(pool, event('billing.low_balance_warning', payload))).toEqual({ status: 'recorded', notified: 2, recipients: 2 });
    expect([await countFor(owner), await countFor(admin), await countFor(member), await countFor(viewer)]).toEqual([1, 1, 0, 0]);
  });

  it('notifies each recipient once when competing replicas handle the same event at the same time', async () => {
    const [owner, admin] = [await newUser(), await newUser()];
    const project = await newProject({ [owner]: 'owner', [admin]: 'admin' });
    const delivered = event('billing.low_balance_warning', { ...notificationPayloadsFor(owner)['billing.low_balance_warning'], owner: { kind: 'project', id: project } });
    const results = await Promise.all(Array.from({ length: 4 }, () => recordEventNotifications(pool, delivered)));
    expect(results.map((result) => (result.status === 'recorded' ? result.notified : -1)).reduce((a, b) => a + b, 0)).toBe(2);
    expect([await countFor(owner), await countFor(admin)]).toEqual([1, 1]);
  });

  it('ignores subjects it does not notify about and reports payloads it cannot address', async () => {
    const owner = await newUser();
    expect(await recordEventNotifications(pool, event('provisioning.requested', notificationPayloadsFor(owner)['provisioning.active']))).toEqual({ status: 'ignored' });
    const malformed = await recordEventNotifications(pool, event('provisioning.active', { allocation_id: randomUUID() }));
    expect(malformed).toMatchObject({ status: 'malformed' });
    expect(await countFor(owner)).toBe(0);
  });
});

describe('reading notifications', () => {
  it("lists only the caller's notifications, newest first, across pages", async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const payloads = notificationPayloadsFor(alice);
    for (const subject of notificationSubjects) await recordEventNotifications(pool, event(subject, payloads[subject]));
    await recordEventNotifications(pool, event('provisioning.active', notificationPayloadsFor(bob)['provisioning.active']));

    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await listMyNotifications(deps, caller(alice), { first: 4, after });
      seen.push(...page.items.map((item) => item.node.kind));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(seen).toEqual([
      'balance_credited',
      'balance_depleted',
      'auto_release_pending',
      'low_balance_warning',
      'allocation_lost',
      'allocation_release_failed',
      'allocation_released',
      'allocation_failed',
      'allocation_active',
    ]);
    const bobs = await listMyNotifications(deps, caller(bob), {});
    expect(bobs.items.map((item) => item.node.kind)).toEqual(['allocation_active']);
  });

  it('marks a notification read once, hides it from the unread list, and answers not_found for another user', async () => {
    const [alice, mallory] = [await newUser(), await newUser()];
    await recordEventNotifications(pool, event('provisioning.lost', notificationPayloadsFor(alice)['provisioning.lost']));
    const [item] = (await listMyNotifications(deps, caller(alice), { unreadOnly: true })).items;
    expect(item?.node.readAt).toBeNull();

    await expect(markMyNotificationRead(deps, caller(mallory), item!.node.id)).rejects.toMatchObject({ code: 'not_found' });
    expect(await myNotification(deps, caller(mallory), item!.node.id)).toBeNull();

    const read = await markMyNotificationRead(deps, caller(alice), item!.node.id);
    expect(read.readAt).toBeInstanceOf(Date);
    const again = await markMyNotificationRead(deps, caller(alice), item!.node.id);
    expect(again.readAt).toEqual(read.readAt);
    expect((await listMyNotifications(deps, caller(alice), { unreadOnly: true })).items).toEqual([]);
    expect((await listMyNotifications(deps, caller(alice), {})).items).toHaveLength(1);
  });

  it('rejects a cursor it did not issue', async () => {
    const alice = await newUser();
    await expect(listMyNotifications(deps, caller(alice), { after: 'bogus' })).rejects.toMatchObject({ code: 'validation_error' });
  });
});

describe('the notification stream', () => {
  it("pushes each newly recorded notification to its recipient's streams only, once", async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const alices = await streamMyNotifications(deps, caller(alice));
    const bobs = await streamMyNotifications(deps, caller(bob));
    try {
      const payload = notificationPayloadsFor(alice)['billing.balance_depleted'];
      const delivered = event('billing.balance_depleted', payload);
      await recordEventNotifications(pool, delivered);
      await recordEventNotifications(pool, delivered);
      await recordEventNotifications(pool, event('provisioning.active', notificationPayloadsFor(alice)['provisioning.active']));
      expect((await alices.next()).value).toMatchObject({ userId: alice, kind: 'balance_depleted' });
      // The redelivery wrote nothing, so the next push is the following event's.
      expect((await alices.next()).value).toMatchObject({ userId: alice, kind: 'allocation_active' });

      await recordEventNotifications(pool, event('provisioning.active', notificationPayloadsFor(bob)['provisioning.active']));
      expect((await bobs.next()).value).toMatchObject({ userId: bob, kind: 'allocation_active' });
    } finally {
      await alices.return?.();
      await bobs.return?.();
    }
    const listening = await pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN platform_notification_added' AND state = 'idle'",
    );
    expect(Number(listening.rows[0]!.n)).toBe(0);
  });

  it('ends with service_unavailable when the LISTEN connection breaks, and a new subscription listens again', async () => {
    const alice = await newUser();
    const broken = await streamMyNotifications(deps, caller(alice));
    const terminated = await pool.query<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN platform_notification_added'",
    );
    expect(terminated.rows.map((row) => row.ok)).toEqual([true]);
    await expect(broken.next()).rejects.toMatchObject({ code: 'service_unavailable' });

    const renewed = await streamMyNotifications(deps, caller(alice));
    try {
      await recordEventNotifications(pool, event('provisioning.active', notificationPayloadsFor(alice)['provisioning.active']));
      expect((await renewed.next()).value).toMatchObject({ userId: alice, kind: 'allocation_active' });
    } finally {
      await renewed.return?.();
    }
  });
});

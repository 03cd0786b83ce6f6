import { AppError } from '@gpuaas/errors';
import { subjects } from '@gpuaas/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAllocation } from '../src/allocations/create.js';
import { adminForceReleaseAllocation, releaseAllocation, renameAllocation } from '../src/allocations/lifecycle.js';
import { handleProvisioningEvent } from '../src/allocations/provisioning.js';
import { adminListAllocations, getAllocation, listAllocations } from '../src/allocations/queries.js';
import { applyTaskOutcome } from '../src/allocations/task-outcomes.js';
import { withTransaction } from '@gpuaas/db';
import { createCommand, seedCapacity, seedMember } from './support/allocation-world.js';
import { eventContractProblems } from './support/event-contract.js';
import { outboxEvents, startAllocationHarness, stateOf, tasksOf, type AllocationHarness } from './support/provisioning-harness.js';

let h: AllocationHarness;

beforeAll(async () => {
  h = await startAllocationHarness({ liveLimit: 3 });
});

afterAll(async () => {
  await h?.close();
});

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** Runs the worker on the allocation's latest event of `subject` (what the relay would deliver). */
async function deliver(allocationId: string, subject: string) {
  const events = await outboxEvents(h.pool, allocationId, subject);
  expect(events.length).toBeGreaterThan(0);
  return handleProvisioningEvent(h.deps, events.at(-1)!);
}

async function completeTask(allocationId: string, kind: 'provision' | 'release', status: 'succeeded' | 'failed', result?: Record<string, unknown>) {
  const task = (await tasksOf(h.pool, allocationId)).find((row) => row.kind === kind && row.state === 'queued');
  expect(task).toBeDefined();
  return withTransaction(h.pool, async (client) => {
    // What helper B's result endpoint does in the same transaction: mark the task done, then apply the outcome.
    await client.query(`UPDATE compute.node_tasks SET state = $2, result = $3::jsonb, completed_at = now() WHERE id = $1`, [task!.id, status, JSON.stringify(result ?? null)]);
    return applyTaskOutcome(
      client,
      { logger: h.deps.logger },
      { id: task!.id, nodeId: task!.node_id, kind, allocationId, payload: task!.payload },
      status === 'succeeded' ? { status, result: result ?? {} } : { status, error: { code: 'driver_error', message: 'MIG instance create failed' } },
    );
  });
}

describe('createAllocation', () => {
  it('places the allocation on a free slot in requested, freezes the price in force and announces it', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    expect(view).toMatchObject({ state: 'requested', projectId: member.projectId, userId: member.actor.userId, name: 'llm-finetune' });
    expect(view.hourlyAmountMinor).toBe('250');
    expect(view.currency).toBe('USD');
    expect(view.placement).toMatchObject({ nodeId: capacity.nodeIds[0], slotId: capacity.slotIds[0] });
    expect(view.osImage.version).toBe('2026.11');
    const [event] = await outboxEvents(h.pool, view.id);
    expect(event).toMatchObject({
      event_type: 'provisioning.requested',
      correlation_id: member.actor.correlationId,
      payload: { allocation_id: view.id, node_id: capacity.nodeIds[0], slot_id: capacity.slotIds[0], region: capacity.regionCode, hourly_price: { amount_minor: 250, currency: 'USD' } },
    });
    const { rows } = await h.pool.query('SELECT from_state, to_state FROM compute.allocation_transitions WHERE allocation_id = $1', [view.id]);
    expect(rows).toEqual([{ from_state: null, to_state: 'requested' }]);
  });

  it('names the profile by gpu model and profile name as well', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member, { profileId: null, gpuModel: capacity.gpuModelCode, profileName: 'whole', name: null }));
    expect(view.profile.id).toBe(capacity.profileId);
    expect(view.name).toBeNull();
  });

  it('answers capacity_unavailable and holds nothing when no slot is free', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const first = await seedMember(h.pool);
    const second = await seedMember(h.pool);
    await createAllocation(h.deps, first.actor, createCommand(capacity, first));
    const error = await refusal(createAllocation(h.deps, second.actor, createCommand(capacity, second)));
    expect(error.code).toBe('capacity_unavailable');
    expect(error.details).toMatchObject({ profile_id: capacity.profileId, region: capacity.regionCode });
    const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM compute.allocations WHERE user_id = $1', [second.actor.userId]);
    expect(rows[0].n).toBe(0);
  });

  it('does not place on nodes that are not active', async () => {
    const capacity = await seedCapacity(h.pool, 2, { nodeState: 'cordoned' });
    const member = await seedMember(h.pool);
    expect((await refusal(createAllocation(h.deps, member.actor, createCommand(capacity, member)))).code).toBe('capacity_unavailable');
  });

  it('refuses past max_live_allocations_per_user with quota_exceeded', async () => {
    const capacity = await seedCapacity(h.pool, 5);
    const member = await seedMember(h.pool);
    for (let index = 0; index < 3; index++) await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    const error = await refusal(createAllocation(h.deps, member.actor, createCommand(capacity, member)));
    expect(error.code).toBe('quota_exceeded');
    expect(error.details).toEqual({ limit: 3 });
  });

  it('lets a viewer read but not create, and answers a stranger not_found', async () => {
    const capacity = await seedCapacity(h.pool, 2);
    const owner = await seedMember(h.pool);
    const viewer = await seedMember(h.pool, { projectId: owner.projectId, role: 'viewer' });
    const stranger = await seedMember(h.pool);
    expect((await refusal(createAllocation(h.deps, viewer.actor, createCommand(capacity, viewer, { projectId: owner.projectId })))).code).toBe('forbidden');
    expect((await refusal(createAllocation(h.deps, stranger.actor, createCommand(capacity, stranger, { projectId: owner.projectId })))).code).toBe('not_found');
    const view = await createAllocation(h.deps, owner.actor, createCommand(capacity, owner));
    expect((await getAllocation(h.pool, viewer.actor, view.id)).id).toBe(view.id);
    expect((await refusal(getAllocation(h.pool, stranger.actor, view.id))).code).toBe('not_found');
    expect((await refusal(releaseAllocation(h.deps, stranger.actor, view.id))).code).toBe('not_found');
    expect((await refusal(releaseAllocation(h.deps, viewer.actor, view.id))).code).toBe('forbidden');
  });

  it('refuses another user\'s SSH key, an unknown image and a deprecated one', async () => {
    const capacity = await seedCapacity(h.pool, 2);
    const member = await seedMember(h.pool);
    const other = await seedMember(h.pool);
    const foreign = await refusal(createAllocation(h.deps, member.actor, createCommand(capacity, member, { sshKeyIds: [member.sshKeyId, other.sshKeyId] })));
    expect(foreign.code).toBe('validation_error');
    expect(foreign.details?.fields).toEqual([{ field: 'body.ssh_key_ids[1]', message: 'is not one of your SSH keys' }]);
    const unknownImage = await refusal(createAllocation(h.deps, member.actor, createCommand(capacity, member, { osImageId: other.projectId })));
    expect(unknownImage.details?.fields?.[0]?.field).toBe('body.os_image_id');
    await h.pool.query(`UPDATE platform.os_images SET status = 'deprecated' WHERE id = $1`, [capacity.osImageId]);
    expect((await refusal(createAllocation(h.deps, member.actor, createCommand(capacity, member)))).code).toBe('unprocessable');
    const { rows } = await h.pool.query('SELECT count(*)::int AS n FROM compute.allocations WHERE user_id = $1', [member.actor.userId]);
    expect(rows[0].n).toBe(0);
  });

  it('places 200 concurrent requests for 100 slots exactly 100 times, never a slot twice', async () => {
    const capacity = await seedCapacity(h.pool, 100);
    const members = await Promise.all(Array.from({ length: 50 }, () => seedMember(h.pool)));
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, index) => {
        const member = members[index % members.length]!;
        return createAllocation({ pool: h.pool, config: { policies: { max_live_allocations_per_user: 100, min_runway_for_new_allocation_seconds: 0 } } }, member.actor, createCommand(capacity, member));
      }),
    );
    const placed = results.filter((result) => result.status === 'fulfilled');
    const refused = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as AppError).code] : []));
    expect(placed).toHaveLength(100);
    expect(refused).toEqual(Array.from({ length: 100 }, () => 'capacity_unavailable'));
    const { rows } = await h.pool.query(
      `SELECT count(*)::int AS allocations, count(DISTINCT slot_id)::int AS slots FROM compute.allocations WHERE region_id = $1`,
      [capacity.regionId],
    );
    expect(rows[0]).toEqual({ allocations: 100, slots: 100 });
  });
});

describe('provisioning lifecycle', () => {
  it('queues one provision task for a requested allocation, and a redelivery or a replay does nothing more', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    const [requested] = await outboxEvents(h.pool, view.id, subjects.provisioningRequested);
    expect(await handleProvisioningEvent(h.deps, requested!)).toBe('done');
    expect(await handleProvisioningEvent(h.deps, requested!)).toBe('duplicate');
    // Same allocation, a different event id (a republished event): the state guard stops it.
    expect(await handleProvisioningEvent(h.deps, { ...requested!, event_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e99' })).toBe('ignored');
    expect(await stateOf(h.pool, view.id)).toMatchObject({ state: 'provisioning' });
    const tasks = await tasksOf(h.pool, view.id);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ kind: 'provision', state: 'queued', node_id: capacity.nodeIds[0] });
    expect(tasks[0]!.payload).toMatchObject({
      allocation_id: view.id,
      gpu_uuid: expect.stringMatching(/^GPU-/),
      mig_uuid: null,
      slice_profile: 'whole',
      os_image: expect.stringMatching(/:2026\.11$/),
      os_image_id: capacity.osImageId,
      ssh_public_keys: [expect.stringMatching(/^ssh-ed25519 /)],
      ssh_key_ids: [member.sshKeyId],
      slot: { slot_id: capacity.slotIds[0], gpu_instance_id: null, compute_instance_id: null, mig_uuid: null, profile: 'whole' },
    });
  });

  it('goes active on a successful provision, with ssh access from the result', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    await deliver(view.id, subjects.provisioningRequested);
    expect(await completeTask(view.id, 'provision', 'succeeded', { ssh_access: { host: '203.0.113.14', port: 22014, username: 'ubuntu' } })).toBe('active');
    const active = await getAllocation(h.pool, member.actor, view.id);
    expect(active.state).toBe('active');
    expect(active.activeAt).toBeInstanceOf(Date);
    expect(active.sshAccess).toEqual({ host: '203.0.113.14', port: 22014, username: 'ubuntu' });
    const [event] = await outboxEvents(h.pool, view.id, subjects.provisioningActive);
    expect(event!.payload).toMatchObject({ allocation_id: view.id, node_id: capacity.nodeIds[0], active_at: active.activeAt!.toISOString() });
  });

  it('reads ssh access from the contract\'s provision result shape too', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    await deliver(view.id, subjects.provisioningRequested);
    await completeTask(view.id, 'provision', 'succeeded', { ssh_host: '203.0.113.17', ssh_port: 22022, ssh_user: 'ubuntu' });
    expect((await getAllocation(h.pool, member.actor, view.id)).sshAccess).toEqual({ host: '203.0.113.17', port: 22022, username: 'ubuntu' });
  });

  it('fails on a failed provision and frees the slot for the next request', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    await deliver(view.id, subjects.provisioningRequested);
    expect(await completeTask(view.id, 'provision', 'failed')).toBe('failed');
    expect(await stateOf(h.pool, view.id)).toMatchObject({ state: 'failed', state_reason: 'provisioning_failed' });
    const [event] = await outboxEvents(h.pool, view.id, subjects.provisioningFailed);
    expect(event!.payload).toMatchObject({ error: { code: 'driver_error' }, slot_id: capacity.slotIds[0] });
    const next = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    expect(next.placement?.slotId).toBe(capacity.slotIds[0]);
  });

  it('releases an active allocation through a release task, once', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    await deliver(view.id, subjects.provisioningRequested);
    await completeTask(view.id, 'provision', 'succeeded');
    const releasing = await releaseAllocation(h.deps, member.actor, view.id);
    expect(releasing).toMatchObject({ state: 'releasing', stateReason: 'user_release' });
    // Releasing again answers unchanged and announces nothing more.
    expect((await releaseAllocation(h.deps, member.actor, view.id)).version).toBe(releasing.version);
    expect(await outboxEvents(h.pool, view.id, subjects.provisioningReleasingRequested)).toHaveLength(1);
    const [requested] = await outboxEvents(h.pool, view.id, subjects.provisioningReleasingRequested);
    expect(requested!.payload).toMatchObject({ requested_by: { kind: 'user', id: member.actor.userId }, reason_code: 'user_release' });
    await deliver(view.id, subjects.provisioningReleasingRequested);
    expect(await completeTask(view.id, 'release', 'succeeded')).toBe('released');
    const released = await getAllocation(h.pool, member.actor, view.id);
    expect(released.state).toBe('released');
    expect(released.releasedAt).toBeInstanceOf(Date);
    const [completed] = await outboxEvents(h.pool, view.id, subjects.provisioningReleasingCompleted);
    expect(completed!.payload).toMatchObject({ reason_code: 'user_release', released_at: released.releasedAt!.toISOString() });
    expect((await refusal(releaseAllocation(h.deps, member.actor, view.id))).code).toBe('invalid_state_transition');
  });

  it('keeps the slot held when a release fails, says so, and lets an operator retry it', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    await deliver(view.id, subjects.provisioningRequested);
    await completeTask(view.id, 'provision', 'succeeded');
    await releaseAllocation(h.deps, member.actor, view.id);
    await deliver(view.id, subjects.provisioningReleasingRequested);
    expect(await completeTask(view.id, 'release', 'failed')).toBe('release_failed');
    expect(await stateOf(h.pool, view.id)).toMatchObject({ state: 'releasing', state_reason: 'release_failed' });
    expect(await outboxEvents(h.pool, view.id, subjects.provisioningReleaseFailed)).toHaveLength(1);
    expect((await refusal(createAllocation(h.deps, member.actor, createCommand(capacity, member)))).code).toBe('capacity_unavailable');
    // An operator retries: a fresh release task, and this time the node tears it down.
    const admin = await seedMember(h.pool, { admin: true });
    expect(await adminForceReleaseAllocation(h.deps, admin.actor, view.id, 'Retry after the driver fix')).toMatchObject({ state: 'releasing', stateReason: 'admin_force_release' });
    expect(await deliver(view.id, subjects.provisioningReleasingRequested)).toBe('done');
    expect(await completeTask(view.id, 'release', 'succeeded')).toBe('released');
    expect((await tasksOf(h.pool, view.id)).map((task) => `${task.kind}:${task.state}`)).toEqual(['provision:succeeded', 'release:failed', 'release:succeeded']);
  });

  it('releases an allocation never handed to its node without a node task', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    await releaseAllocation(h.deps, member.actor, view.id);
    // The requested event arrives after the release: nothing is provisioned.
    expect(await deliver(view.id, subjects.provisioningRequested)).toBe('ignored');
    expect(await deliver(view.id, subjects.provisioningReleasingRequested)).toBe('done');
    expect(await stateOf(h.pool, view.id)).toMatchObject({ state: 'released', state_reason: 'user_release' });
    expect(await tasksOf(h.pool, view.id)).toHaveLength(0);
    expect(await outboxEvents(h.pool, view.id, subjects.provisioningReleasingCompleted)).toHaveLength(1);
  });

  it('ignores a provision result that arrives after the release began', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    await deliver(view.id, subjects.provisioningRequested);
    await releaseAllocation(h.deps, member.actor, view.id);
    expect(await completeTask(view.id, 'provision', 'succeeded')).toBe('ignored');
    expect(await stateOf(h.pool, view.id)).toMatchObject({ state: 'releasing' });
  });

  it('moves a live allocation to releasing on billing\'s force release, and leaves a final one alone', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    await deliver(view.id, subjects.provisioningRequested);
    await completeTask(view.id, 'provision', 'succeeded');
    const force = {
      event_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e77',
      event_type: subjects.provisioningForceReleaseRequested,
      occurred_at: new Date().toISOString(),
      version: 1,
      correlation_id: 'billing-depletion',
      payload: { allocation_id: view.id, requested_by: { kind: 'billing', id: member.actor.userId }, reason_code: 'balance_depleted', reason: 'The wallet is empty' },
    };
    expect(await handleProvisioningEvent(h.deps, force)).toBe('done');
    expect(await stateOf(h.pool, view.id)).toMatchObject({ state: 'releasing', state_reason: 'balance_depleted' });
    const [releasing] = await outboxEvents(h.pool, view.id, subjects.provisioningReleasingRequested);
    expect(releasing!.payload).toMatchObject({ requested_by: { kind: 'billing' }, reason_code: 'balance_depleted' });
    expect(await handleProvisioningEvent(h.deps, { ...force, event_id: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e78' })).toBe('ignored');
  });

  it('lets an admin force-release any tenant\'s allocation, audited', async () => {
    const capacity = await seedCapacity(h.pool, 1);
    const member = await seedMember(h.pool);
    const admin = await seedMember(h.pool, { admin: true });
    const view = await createAllocation(h.deps, member.actor, createCommand(capacity, member));
    const released = await adminForceReleaseAllocation(h.deps, admin.actor, view.id, 'Abuse report 4411');
    expect(released).toMatchObject({ state: 'releasing', stateReason: 'admin_force_release' });
    const { rows } = await h.pool.query(`SELECT actor_id, action, details FROM infra.audit_logs WHERE target_id = $1`, [view.id]);
    expect(rows).toEqual([{ actor_id: admin.actor.userId, action: 'allocation.force_release', details: expect.objectContaining({ reason: 'Abuse report 4411' }) }]);
    expect(await outboxEvents(h.pool, view.id, subjects.provisioningForceReleaseRequested)).toHaveLength(1);
  });
});

describe('reading allocations', () => {
  it('lists the caller\'s projects only, newest first, a page at a time', async () => {
    const capacity = await seedCapacity(h.pool, 3);
    const member = await seedMember(h.pool);
    const stranger = await seedMember(h.pool);
    const created = [];
    for (let index = 0; index < 3; index++) created.push(await createAllocation(h.deps, member.actor, createCommand(capacity, member, { name: `a${index}` })));
    const first = await listAllocations(h.pool, member.actor, { first: 2 });
    expect(first.items.map((item) => item.node.name)).toEqual(['a2', 'a1']);
    expect(first.hasNextPage).toBe(true);
    const second = await listAllocations(h.pool, member.actor, { first: 2, after: first.endCursor });
    expect(second.items.map((item) => item.node.name)).toEqual(['a0']);
    expect((await listAllocations(h.pool, stranger.actor, {})).items).toHaveLength(0);
    expect((await refusal(listAllocations(h.pool, stranger.actor, { projectId: member.projectId }))).code).toBe('not_found');
    const filtered = await adminListAllocations(h.pool, { userId: member.actor.userId, states: ['requested'] });
    expect(filtered.items).toHaveLength(3);
    const renamed = await renameAllocation(h.deps, member.actor, created[0]!.id, null);
    expect(renamed.name).toBeNull();
  });
});

describe('events', () => {
  // Runs last: by then the tests above wrote every kind of provisioning event this area produces.
  it('writes only events that match the AsyncAPI contract', async () => {
    const { rows } = await h.pool.query<{ subject: string; envelope: unknown }>('SELECT subject, envelope FROM infra.outbox');
    const subjectsSeen = new Set(rows.map((row) => row.subject));
    expect([...subjectsSeen].sort()).toEqual([
      'provisioning.active',
      'provisioning.failed',
      'provisioning.force_release_requested',
      'provisioning.release_failed',
      'provisioning.releasing.completed',
      'provisioning.releasing.requested',
      'provisioning.requested',
    ]);
    expect(rows.flatMap((row) => eventContractProblems(row.subject, row.envelope))).toEqual([]);
  });
});

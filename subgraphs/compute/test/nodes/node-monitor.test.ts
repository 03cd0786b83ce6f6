import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishDrainedNodes, findNodeView, runNodeMonitorTick, updateNode } from '../../src/nodes/index.js';
import { deleteExpiredTelemetry } from '../../src/telemetry/index.js';
import { placeAllocation, registeredNode, startNodeDeps, type NodeTestDeps } from './support/node-deps.js';
import { nodeWithWholeSlot } from './support/node-with-slot.js';

let env: NodeTestDeps;

beforeAll(async () => {
  env = await startNodeDeps({ POLICY_TELEMETRY_RETENTION_DAYS: '2' });
});

afterAll(async () => {
  await env?.close();
});

async function insertSample(nodeId: string, gpuUuid: string, ageHours: number) {
  await env.deps.pool.query(
    `INSERT INTO compute.guest_telemetry (node_id, gpu_uuid, sampled_at, gpu_utilization_percent, memory_used_bytes, memory_total_bytes)
     VALUES ($1, $2, now() - make_interval(hours => $3), 50, 1, 2)`,
    [nodeId, gpuUuid, ageHours],
  );
}

describe('finishing drained nodes', () => {
  it('cordons a draining node once its last allocation is gone, and leaves one still holding an allocation draining', async () => {
    const idle = await nodeWithWholeSlot(env);
    const busy = await nodeWithWholeSlot(env);
    const idleAllocation = await placeAllocation(env, idle.nodeId, idle.slotId, 'active');
    await placeAllocation(env, busy.nodeId, busy.slotId, 'active');
    await updateNode(env.deps, idle.admin, idle.nodeId, { state: 'draining', reason: 'rack swap' });
    await updateNode(env.deps, busy.admin, busy.nodeId, { state: 'draining', reason: 'rack swap' });
    expect(await finishDrainedNodes(env.deps)).not.toContain(idle.nodeId);

    await env.deps.pool.query(`UPDATE compute.allocations SET state = 'released', released_at = now() WHERE id = $1`, [idleAllocation]);
    const cordoned = await finishDrainedNodes(env.deps);
    expect(cordoned).toContain(idle.nodeId);
    expect(cordoned).not.toContain(busy.nodeId);
    expect((await findNodeView(env.deps.pool, idle.nodeId))?.state).toBe('cordoned');
    expect((await findNodeView(env.deps.pool, busy.nodeId))?.state).toBe('draining');
    expect(await finishDrainedNodes(env.deps)).not.toContain(idle.nodeId);
  });
});

describe('telemetry retention', () => {
  it('deletes samples older than telemetry_retention_days in batches and keeps newer ones', async () => {
    const node = await registeredNode(env);
    const gpuUuid = node.gpus[0]!.uuid;
    for (let hours = 49; hours < 56; hours += 1) await insertSample(node.nodeId, gpuUuid, hours);
    await insertSample(node.nodeId, gpuUuid, 47);
    await insertSample(node.nodeId, gpuUuid, 1);

    expect(await deleteExpiredTelemetry(env.deps, 3)).toBe(7);
    const { rows } = await env.deps.pool.query(`SELECT count(*)::int AS n FROM compute.guest_telemetry WHERE gpu_uuid = $1`, [gpuUuid]);
    expect(rows[0].n).toBe(2);
    expect(await deleteExpiredTelemetry(env.deps)).toBe(0);
  });
});

describe('a node monitor pass', () => {
  it('takes silent nodes offline, cordons drained ones and sweeps telemetry only when asked', async () => {
    const silent = await registeredNode(env);
    const drained = await registeredNode(env);
    await updateNode(env.deps, drained.admin, drained.nodeId, { state: 'draining' });
    // updateNode drains an idle node straight to cordoned; put it back to draining as a node that just lost its last allocation.
    await env.deps.pool.query(`UPDATE compute.nodes SET state = 'draining' WHERE id = $1`, [drained.nodeId]);
    await env.deps.pool.query(`UPDATE compute.nodes SET last_heartbeat_at = now() - interval '1 hour' WHERE id = $1`, [silent.nodeId]);
    await insertSample(silent.nodeId, silent.gpus[0]!.uuid, 100);

    const pass = await runNodeMonitorTick(env.deps, 'test-monitor', false);
    expect(pass.offline).toContain(silent.nodeId);
    expect(pass.cordoned).toContain(drained.nodeId);
    expect(pass.telemetryDeleted).toBeNull();
    expect((await findNodeView(env.deps.pool, silent.nodeId))?.state).toBe('offline');

    const sweep = await runNodeMonitorTick(env.deps, 'test-monitor', true);
    expect(sweep.offline).not.toContain(silent.nodeId);
    expect(sweep.telemetryDeleted).toBeGreaterThanOrEqual(1);
  });
});

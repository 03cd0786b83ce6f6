import { claimNodeTask, discoverSliceTopology, readSliceTopology, reportTaskResult } from '../../../src/nodes/index.js';
import { H100_NAME, registeredNode, type NodeTestDeps } from './node-deps.js';

/** A registered node whose discovery reported one card without MIG: one whole-card slot. */
export async function nodeWithWholeSlot(env: NodeTestDeps) {
  const node = await registeredNode(env);
  const gpu = node.gpus[0]!;
  await discoverSliceTopology(env.deps, node.admin, node.nodeId);
  const task = (await claimNodeTask(env.deps.pool, node.nodeId, 60))!;
  await reportTaskResult(env.deps, node.credential, node.nodeId, task.id, {
    fencingToken: task.fencingToken,
    outcome: 'succeeded',
    result: { gpus: [{ uuid: gpu.uuid, index: 0, name: H100_NAME, memory_bytes: gpu.memoryBytes, mig_mode: 'disabled', instances: [] }] },
  });
  const slot = (await readSliceTopology(env.deps.pool, node.nodeId))!.gpus[0]!.instances[0]!;
  return { ...node, gpuUuid: gpu.uuid, slotId: slot.slotId };
}

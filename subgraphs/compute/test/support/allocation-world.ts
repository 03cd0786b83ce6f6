import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';
import type { Actor } from '../../src/allocations/actor.js';

const unique = () => randomBytes(4).toString('hex');

export interface Capacity {
  readonly regionId: string;
  readonly regionCode: string;
  readonly gpuModelCode: string;
  readonly profileId: string;
  readonly profileName: string;
  readonly osImageId: string;
  readonly nodeIds: string[];
  readonly slotIds: string[];
}

/**
 * A region with one whole-card profile priced at 250 USD cents an hour, an active OS image, and `slots` free slots
 * spread over active nodes (8 GPUs per node). Everything is uniquely named, so several worlds share a database.
 */
export async function seedCapacity(pool: pg.Pool, slots: number, options: { nodeState?: string } = {}): Promise<Capacity> {
  const tag = unique();
  const regionId = uuidv7();
  const regionCode = `r-${tag}`;
  const gpuModelId = uuidv7();
  const gpuModelCode = `gpu-${tag}`;
  const profileId = uuidv7();
  const osImageId = uuidv7();
  await pool.query(`INSERT INTO compute.regions (id, code, name) VALUES ($1, $2, $3)`, [regionId, regionCode, `Region ${tag}`]);
  await pool.query(`INSERT INTO compute.gpu_models (id, code, name, memory_bytes) VALUES ($1, $2, $3, 85899345920)`, [gpuModelId, gpuModelCode, `GPU ${tag}`]);
  await pool.query(`INSERT INTO compute.slice_profiles (id, gpu_model_id, name, memory_bytes, compute_sevenths) VALUES ($1, $2, 'whole', 85899345920, 7)`, [profileId, gpuModelId]);
  await pool.query(
    `INSERT INTO compute.prices (id, profile_id, region_id, hourly_amount_minor, currency, effective_from) VALUES ($1, $2, $3, 100, 'USD', now() - interval '2 days'), ($4, $2, $3, 250, 'USD', now() - interval '1 day'), ($5, $2, $3, 999, 'USD', now() + interval '1 day')`,
    [uuidv7(), profileId, regionId, uuidv7(), uuidv7()],
  );
  await pool.query(`INSERT INTO platform.os_images (id, name, version, family, image_ref) VALUES ($1, $2, '2026.11', 'ubuntu', 'ubuntu:22.04')`, [osImageId, `Ubuntu ${tag}`]);
  const nodeIds: string[] = [];
  const slotIds: string[] = [];
  for (let index = 0; index < slots; index++) {
    if (index % 8 === 0) {
      const nodeId = uuidv7();
      await pool.query(`INSERT INTO compute.nodes (id, hostname, region_id, state) VALUES ($1, $2, $3, $4)`, [nodeId, `node-${tag}-${index / 8}`, regionId, options.nodeState ?? 'active']);
      nodeIds.push(nodeId);
    }
    const nodeId = nodeIds.at(-1)!;
    const gpuId = uuidv7();
    await pool.query(
      `INSERT INTO compute.node_gpus (id, node_id, device_index, gpu_uuid, gpu_model_id, model, memory_bytes, mig_mode) VALUES ($1, $2, $3, $4, $5, 'H100', 85899345920, 'disabled')`,
      [gpuId, nodeId, index % 8, `GPU-${tag}-${index.toString(16).padStart(4, '0')}`, gpuModelId],
    );
    const slotId = uuidv7();
    await pool.query(`INSERT INTO compute.slots (id, node_id, node_gpu_id, profile_id, placement_start, placement_size) VALUES ($1, $2, $3, $4, 0, 7)`, [slotId, nodeId, gpuId, profileId]);
    slotIds.push(slotId);
  }
  return { regionId, regionCode, gpuModelCode, profileId, profileName: 'whole', osImageId, nodeIds, slotIds };
}

export interface Member {
  readonly actor: Actor;
  readonly projectId: string;
  readonly sshKeyId: string;
}

/** A user owning a project (or holding `role` in `projectId`), with one SSH key. */
export async function seedMember(pool: pg.Pool, options: { role?: string; projectId?: string; admin?: boolean } = {}): Promise<Member> {
  const tag = unique();
  const userId = uuidv7();
  await pool.query(`INSERT INTO access.users (id, email, display_name, role) VALUES ($1, $2, $3, $4)`, [userId, `u-${tag}@example.test`, `User ${tag}`, options.admin ? 'admin' : 'user']);
  let projectId = options.projectId;
  if (!projectId) {
    projectId = uuidv7();
    await pool.query(`INSERT INTO access.projects (id, name, owner_id) VALUES ($1, $2, $3)`, [projectId, `Project ${tag}`, userId]);
  }
  await pool.query(`INSERT INTO access.project_members (project_id, user_id, role) VALUES ($1, $2, $3)`, [projectId, userId, options.role ?? 'owner']);
  const sshKeyId = uuidv7();
  await pool.query(
    `INSERT INTO access.ssh_keys (id, user_id, name, algorithm, bits, public_key, fingerprint) VALUES ($1, $2, 'laptop', 'ssh-ed25519', 256, $3, $4)`,
    [sshKeyId, userId, `ssh-ed25519 AAAA${tag} laptop`, `SHA256:${tag}`],
  );
  return { actor: { userId, isAdmin: Boolean(options.admin), correlationId: `test-${tag}` }, projectId, sshKeyId };
}

export function createCommand(capacity: Capacity, member: Member, overrides: Record<string, unknown> = {}) {
  return {
    projectId: member.projectId,
    name: 'llm-finetune',
    profileId: capacity.profileId,
    region: capacity.regionCode,
    osImageId: capacity.osImageId,
    sshKeyIds: [member.sshKeyId],
    ...overrides,
  };
}

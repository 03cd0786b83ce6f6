import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';

/**
 * Rows the terminal needs, written straight into a test database: a user (in access, read by compute only
 * through access.project_role_of), a project with members, and an allocation placed on a node's slot.
 */
export interface TerminalWorld {
  readonly nodeId: string;
  /** The node credential in plain text (only its hash is stored). */
  readonly nodeCredential: string;
  newUser(): Promise<string>;
  /** A project owned by `ownerId`, with extra members in the given roles. */
  newProject(ownerId: string, members?: Readonly<Record<string, 'admin' | 'member' | 'viewer'>>): Promise<string>;
  /** An allocation of the project on this world's node, in `state` (default active). */
  newAllocation(projectId: string, userId: string, state?: 'requested' | 'active' | 'released'): Promise<string>;
}

const suffix = () => randomBytes(4).toString('hex');

export async function seedTerminalWorld(pool: pg.Pool, sha256Hex: (value: string) => string): Promise<TerminalWorld> {
  const regionId = uuidv7();
  const modelId = uuidv7();
  const profileId = uuidv7();
  const nodeId = uuidv7();
  const gpuId = uuidv7();
  const nodeCredential = `nc_${nodeId.replaceAll('-', '').slice(0, 16)}.${randomBytes(32).toString('base64url')}`;
  await pool.query(`INSERT INTO compute.regions (id, code, name) VALUES ($1, $2, 'Test region')`, [regionId, `t-${suffix()}`]);
  await pool.query(`INSERT INTO compute.gpu_models (id, code, name, memory_bytes) VALUES ($1, $2, 'Test GPU', 85899345920)`, [modelId, `g-${suffix()}`]);
  await pool.query(`INSERT INTO compute.slice_profiles (id, gpu_model_id, name, memory_bytes, compute_sevenths) VALUES ($1, $2, 'whole', 85899345920, 7)`, [
    profileId,
    modelId,
  ]);
  await pool.query(
    `INSERT INTO compute.nodes (id, hostname, region_id, state, driver, credential_hash, credential_issued_at)
     VALUES ($1, $2, $3, 'active', 'simulated', $4, now())`,
    [nodeId, `node-${suffix()}`, regionId, sha256Hex(nodeCredential)],
  );
  await pool.query(
    `INSERT INTO compute.node_gpus (id, node_id, device_index, gpu_uuid, gpu_model_id, model, memory_bytes, mig_mode)
     VALUES ($1, $2, 0, $3, $4, 'Test GPU', 85899345920, 'disabled')`,
    [gpuId, nodeId, `GPU-${randomBytes(8).toString('hex')}`, modelId],
  );

  return {
    nodeId,
    nodeCredential,
    async newUser() {
      const id = uuidv7();
      await pool.query(`INSERT INTO access.users (id, email, display_name) VALUES ($1, $2, 'Terminal Tester')`, [id, `t-${suffix()}@example.com`]);
      return id;
    },
    async newProject(ownerId, members = {}) {
      const id = uuidv7();
      await pool.query(`INSERT INTO access.projects (id, name, owner_id) VALUES ($1, 'Terminal project', $2)`, [id, ownerId]);
      await pool.query(`INSERT INTO access.project_members (project_id, user_id, role) VALUES ($1, $2, 'owner')`, [id, ownerId]);
      for (const [userId, role] of Object.entries(members)) {
        await pool.query(`INSERT INTO access.project_members (project_id, user_id, role) VALUES ($1, $2, $3)`, [id, userId, role]);
      }
      return id;
    },
    async newAllocation(projectId, userId, state = 'active') {
      const slotId = uuidv7();
      const placementStart = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM compute.slots WHERE node_gpu_id = $1', [gpuId])).rows[0]!.n;
      await pool.query(
        `INSERT INTO compute.slots (id, node_id, node_gpu_id, profile_id, placement_start, placement_size) VALUES ($1, $2, $3, $4, $5, 1)`,
        [slotId, nodeId, gpuId, profileId, placementStart],
      );
      const id = uuidv7();
      const placed = state !== 'requested';
      await pool.query(
        `INSERT INTO compute.allocations (id, project_id, user_id, name, profile_id, region_id, os_image_id, node_id, slot_id, state,
                                          hourly_amount_minor, currency, active_at, released_at)
         VALUES ($1, $2, $3, 'term', $4, $5, $6, $7, $8, $9, 100, 'USD',
                 CASE WHEN $9 IN ('active', 'released') THEN now() END, CASE WHEN $9 = 'released' THEN now() END)`,
        [id, projectId, userId, profileId, regionId, uuidv7(), placed ? nodeId : null, placed ? slotId : null, state],
      );
      return id;
    },
  };
}

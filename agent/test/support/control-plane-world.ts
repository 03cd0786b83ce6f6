import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';
import type { EventEnvelope } from '@gpuaas/events';

/**
 * What the other domains would have set up before a user can ask for an allocation: a price for each of the
 * catalog's profiles, an active OS image (platform), and a user owning a project with an SSH key (access).
 * Written straight to their tables because this test drives the compute domain, not access or platform.
 */
export async function seedTenant(pool: pg.Pool, catalog: { regionId: string; profiles: Record<string, string> }) {
  const tag = randomBytes(4).toString('hex');
  for (const profileId of Object.values(catalog.profiles)) {
    await pool.query(
      `INSERT INTO compute.prices (id, profile_id, region_id, hourly_amount_minor, currency, effective_from)
       VALUES ($1, $2, $3, 99, 'USD', now() - interval '1 day')`,
      [uuidv7(), profileId, catalog.regionId],
    );
  }
  const osImageId = uuidv7();
  await pool.query(`INSERT INTO platform.os_images (id, name, version, family, image_ref) VALUES ($1, $2, '2026.11', 'ubuntu', 'ubuntu:22.04')`, [osImageId, `Ubuntu ${tag}`]);
  const userId = uuidv7();
  const projectId = uuidv7();
  const sshKeyId = uuidv7();
  const publicKey = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${tag} dev@laptop`;
  await pool.query(`INSERT INTO access.users (id, email, display_name, role) VALUES ($1, $2, $3, 'user')`, [userId, `u-${tag}@example.test`, `User ${tag}`]);
  await pool.query(`INSERT INTO access.projects (id, name, owner_id) VALUES ($1, $2, $3)`, [projectId, `Project ${tag}`, userId]);
  await pool.query(`INSERT INTO access.project_members (project_id, user_id, role) VALUES ($1, $2, 'owner')`, [projectId, userId]);
  await pool.query(
    `INSERT INTO access.ssh_keys (id, user_id, name, algorithm, bits, public_key, fingerprint) VALUES ($1, $2, 'laptop', 'ssh-ed25519', 256, $3, $4)`,
    [sshKeyId, userId, publicKey, `SHA256:${tag}`],
  );
  return { osImageId, projectId, sshKeyId, publicKey, actor: { userId, isAdmin: false, correlationId: `agent-e2e-${tag}` } };
}

/** The allocation's provisioning.requested envelope from the outbox (what the relay would publish). */
export async function requestedEvent(pool: pg.Pool, allocationId: string): Promise<EventEnvelope> {
  const { rows } = await pool.query<{ envelope: EventEnvelope }>(
    `SELECT envelope FROM infra.outbox WHERE subject = 'provisioning.requested' AND envelope -> 'payload' ->> 'allocation_id' = $1`,
    [allocationId],
  );
  // ci-allow canonical_error_guard: test set-up
  if (!rows[0]) throw new Error(`no provisioning.requested event for ${allocationId}`);
  return rows[0].envelope;
}

export interface TaskRow {
  id: string;
  kind: string;
  state: string;
  attempts: number;
  fencing_token: string;
  created_at: Date;
  leased_at: Date | null;
  completed_at: Date | null;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

export async function tasksOf(pool: pg.Pool, allocationId: string): Promise<TaskRow[]> {
  const { rows } = await pool.query<TaskRow>(
    `SELECT id, kind, state, attempts, fencing_token, created_at, leased_at, completed_at, result, error
       FROM compute.node_tasks WHERE allocation_id = $1 ORDER BY created_at`,
    [allocationId],
  );
  return rows;
}

/** Polls `probe` until it answers something truthy, or fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    // ci-allow canonical_error_guard: test assertion
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

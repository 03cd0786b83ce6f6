import { AppError } from '@gpuaas/errors';
import type { ComputeDeps } from '../deps.js';
import { authenticateNode, createNode, issueBootstrapToken, revokeNodeCredential, type AdminActor } from '../nodes/index.js';
import { demoNode } from './demo-catalog.js';

/** Who the dev launcher acts as in audit rows: no person, so a fixed id that no user has. */
const DEV_LAUNCHER: AdminActor = { userId: '00000000-0000-7000-8000-00000000d3e0', correlationId: 'dev-launcher' };

/** A credential the agent kept from an earlier start. */
export interface StoredNodeCredential {
  readonly nodeId: string;
  readonly nodeCredential: string;
}

/** The simulated agent's layout in its SIMULATED_LAYOUT shape (kept structural: the agent is another deployable). */
export interface DemoNodeLayout {
  readonly gpus: ReadonlyArray<{
    readonly name: string;
    readonly memory_gib: number;
    readonly count: number;
    readonly mig?: ReadonlyArray<{ readonly profile: string; readonly start: number; readonly size: number }>;
  }>;
}

export interface DemoNodeAccess {
  readonly nodeId: string;
  readonly hostname: string;
  /** A fresh one-time token when the agent must register; undefined when its stored credential still works. */
  readonly bootstrapToken: string | undefined;
  /** The demo catalog's node as the simulated agent should report it, so discovery yields the same slots. */
  readonly layout: DemoNodeLayout;
}

/**
 * Makes the demo node joinable by the dev launcher's in-process agent, through the nodes services an operator
 * would use: creates `sim-node-1` in the demo catalog's region when it is missing, and hands out a fresh bootstrap
 * token unless `stored` is a working credential of that node (a credential the database no longer knows — a reset
 * database, a lost state file — is revoked and replaced).
 */
export async function ensureDemoNode(deps: ComputeDeps, stored?: StoredNodeCredential): Promise<DemoNodeAccess> {
  const layout = await demoLayout(deps);
  const existing = await deps.pool.query<{ id: string; credential_active: boolean }>(
    `SELECT id, credential_hash IS NOT NULL AND credential_revoked_at IS NULL AS credential_active
       FROM compute.nodes WHERE hostname = $1 AND state <> 'retired'`,
    [demoNode.hostname],
  );
  const node = existing.rows[0];
  if (!node) {
    const created = await createNode(deps, DEV_LAUNCHER, { hostname: demoNode.hostname, region: demoNode.region, labels: { demo: 'true' } });
    return { nodeId: created.node.id, hostname: demoNode.hostname, bootstrapToken: created.bootstrapToken, layout };
  }
  if (stored && stored.nodeId === node.id && (await credentialOf(deps, stored.nodeCredential)) === node.id) {
    return { nodeId: node.id, hostname: demoNode.hostname, bootstrapToken: undefined, layout };
  }
  if (node.credential_active) await revokeNodeCredential(deps, DEV_LAUNCHER, node.id, 'dev launcher: the agent has no working credential');
  const issued = await issueBootstrapToken(deps, DEV_LAUNCHER, node.id);
  return { nodeId: node.id, hostname: demoNode.hostname, bootstrapToken: issued.bootstrapToken, layout };
}

async function credentialOf(deps: ComputeDeps, credential: string): Promise<string | undefined> {
  try {
    return await authenticateNode(deps.pool, credential);
  } catch (error) {
    if (error instanceof AppError && error.code === 'unauthenticated') return undefined;
    throw error;
  }
}

async function demoLayout(deps: ComputeDeps): Promise<DemoNodeLayout> {
  const { rows } = await deps.pool.query<{ code: string; name: string; memory_bytes: string }>('SELECT code, name, memory_bytes FROM compute.gpu_models');
  const models = new Map(rows.map((row) => [row.code, row]));
  return {
    gpus: demoNode.gpus.map((gpu) => {
      const model = models.get(gpu.model);
      // ci-allow canonical_error_guard: dev seeding tool; the demo catalog is seeded just before
      if (!model) throw new Error(`the demo catalog has no GPU model ${gpu.model}`);
      const card = { name: model.name, memory_gib: Math.round(Number(model.memory_bytes) / 1024 ** 3), count: 1 };
      return gpu.mig === 'enabled' ? { ...card, mig: gpu.slots.map(({ profile, start, size }) => ({ profile, start, size })) } : card;
    }),
  };
}

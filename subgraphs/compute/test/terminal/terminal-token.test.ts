import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { sha256Hex } from '../../src/nodes/tokens.js';
import { createTerminalToken, openTerminalSession } from '../../src/terminal/service.js';
import { applyTerminalTaskOutcome } from '../../src/terminal/task-outcomes.js';
import { decodeFrame, FrameKind, terminalSubjects } from '../../src/terminal/subjects.js';
import { terminalTokenHash } from '../../src/terminal/tokens.js';
import { identityOf, startTerminalDeps, type TerminalTestDeps } from './support/deps.js';
import { seedTerminalWorld, type TerminalWorld } from './support/seed.js';

let env: TerminalTestDeps;
let world: TerminalWorld;

beforeAll(async () => {
  env = await startTerminalDeps({ terminalWsBaseUrl: 'wss://console.example.com' });
  world = await seedTerminalWorld(env.deps.pool, sha256Hex);
});

afterAll(async () => {
  await env?.close();
});

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return 'no error';
}

async function ownedAllocation(state: 'requested' | 'active' | 'released' = 'active') {
  const owner = await world.newUser();
  const projectId = await world.newProject(owner);
  return { owner, projectId, allocationId: await world.newAllocation(projectId, owner, state) };
}

describe('issuing terminal tokens', () => {
  it('issues a short-lived token bound to the allocation and stores only its hash', async () => {
    const { owner, allocationId } = await ownedAllocation();
    const before = Date.now();
    const issued = await createTerminalToken(env.deps, identityOf(owner), allocationId);
    expect(issued).toEqual({
      allocationId,
      token: expect.stringMatching(/^tt_[A-Za-z0-9_-]{43}$/),
      protocol: 'gpuaas.terminal.v1',
      wsUrl: `wss://console.example.com/terminal/${allocationId}`,
      expiresAt: expect.any(Date),
    });
    const ttl = env.deps.config.policies.terminal_token_ttl_seconds * 1000;
    expect(issued.expiresAt.getTime()).toBeGreaterThan(before + ttl - 5_000);
    expect(issued.expiresAt.getTime()).toBeLessThan(Date.now() + ttl + 5_000);
    const { rows } = await env.deps.pool.query('SELECT token_hash, user_id, used_at FROM compute.terminal_sessions WHERE allocation_id = $1', [allocationId]);
    expect(rows).toEqual([{ token_hash: terminalTokenHash(issued.token), user_id: owner, used_at: null }]);
  });

  it('lets admins and members open a terminal but not viewers', async () => {
    const [owner, admin, member, viewer] = await Promise.all([world.newUser(), world.newUser(), world.newUser(), world.newUser()]);
    const projectId = await world.newProject(owner, { [admin]: 'admin', [member]: 'member', [viewer]: 'viewer' });
    const allocationId = await world.newAllocation(projectId, owner);
    await expect(createTerminalToken(env.deps, identityOf(admin), allocationId)).resolves.toMatchObject({ allocationId });
    await expect(createTerminalToken(env.deps, identityOf(member), allocationId)).resolves.toMatchObject({ allocationId });
    expect(await codeOf(createTerminalToken(env.deps, identityOf(viewer), allocationId))).toBe('forbidden');
  });

  it("answers another project's allocation exactly like a missing one", async () => {
    const { allocationId } = await ownedAllocation();
    const stranger = await world.newUser();
    expect(await codeOf(createTerminalToken(env.deps, identityOf(stranger), allocationId))).toBe('not_found');
    expect(await codeOf(createTerminalToken(env.deps, identityOf(stranger), '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a7b'))).toBe('not_found');
  });

  it('refuses an allocation that is not active, and an anonymous caller', async () => {
    const requested = await ownedAllocation('requested');
    expect(await codeOf(createTerminalToken(env.deps, identityOf(requested.owner), requested.allocationId))).toBe('invalid_state_transition');
    const released = await ownedAllocation('released');
    expect(await codeOf(createTerminalToken(env.deps, identityOf(released.owner), released.allocationId))).toBe('invalid_state_transition');
    const anonymous = { userId: null, role: null, sessionId: null, tokenVersion: null, correlationId: 'x' } as const;
    expect(await codeOf(createTerminalToken(env.deps, anonymous, released.allocationId))).toBe('unauthenticated');
  });
});

describe('spending terminal tokens', () => {
  it('accepts a token once: the second use is refused', async () => {
    const { owner, allocationId } = await ownedAllocation();
    const { token } = await createTerminalToken(env.deps, identityOf(owner), allocationId);
    const session = await openTerminalSession(env.deps, allocationId, token);
    expect(session).toEqual({ sessionId: expect.any(String), allocationId, nodeId: world.nodeId, userId: owner });
    expect(await codeOf(openTerminalSession(env.deps, allocationId, token))).toBe('unauthenticated');
  });

  it('lets exactly one of many concurrent uses through', async () => {
    const { owner, allocationId } = await ownedAllocation();
    const { token } = await createTerminalToken(env.deps, identityOf(owner), allocationId);
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => openTerminalSession(env.deps, allocationId, token)));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses an expired token', async () => {
    const { owner, allocationId } = await ownedAllocation();
    const { token } = await createTerminalToken(env.deps, identityOf(owner), allocationId);
    await env.deps.pool.query(
      `UPDATE compute.terminal_sessions SET created_at = now() - interval '2 minutes', expires_at = now() - interval '1 second' WHERE token_hash = $1`,
      [terminalTokenHash(token)],
    );
    expect(await codeOf(openTerminalSession(env.deps, allocationId, token))).toBe('unauthenticated');
  });

  it('refuses a token presented for another allocation, and spends it', async () => {
    const first = await ownedAllocation();
    const other = await world.newAllocation(first.projectId, first.owner);
    const { token } = await createTerminalToken(env.deps, identityOf(first.owner), first.allocationId);
    expect(await codeOf(openTerminalSession(env.deps, other, token))).toBe('unauthenticated');
    expect(await codeOf(openTerminalSession(env.deps, first.allocationId, token))).toBe('unauthenticated');
  });

  it('checks the role again when the token is spent', async () => {
    const [owner, member] = await Promise.all([world.newUser(), world.newUser()]);
    const projectId = await world.newProject(owner, { [member]: 'member' });
    const allocationId = await world.newAllocation(projectId, owner);
    const { token } = await createTerminalToken(env.deps, identityOf(member), allocationId);
    await env.deps.pool.query('DELETE FROM access.project_members WHERE project_id = $1 AND user_id = $2', [projectId, member]);
    expect(await codeOf(openTerminalSession(env.deps, allocationId, token))).toBe('not_found');
  });

  it('refuses garbage without touching the database', async () => {
    const { allocationId } = await ownedAllocation();
    expect(await codeOf(openTerminalSession(env.deps, allocationId, "tt_' OR 1=1 --"))).toBe('unauthenticated');
  });
});

describe('open_terminal task outcomes', () => {
  it('closes the session and tells the browser side when the agent failed', async () => {
    const { owner, allocationId } = await ownedAllocation();
    const { token } = await createTerminalToken(env.deps, identityOf(owner), allocationId);
    const session = await openTerminalSession(env.deps, allocationId, token);
    const subscription = env.deps.nats.subscribe(terminalSubjects(env.deps.config.natsNamespace, session.sessionId).toBrowser, { max: 1 });
    await env.deps.nats.flush();
    const client = await env.deps.pool.connect();
    try {
      await applyTerminalTaskOutcome(
        client,
        env.deps,
        { id: 'task', nodeId: world.nodeId, kind: 'open_terminal', allocationId, payload: { terminal_session_id: session.sessionId } },
        { status: 'failed', error: { code: 'pty_failed', message: 'no shell' } },
      );
    } finally {
      client.release();
    }
    for await (const message of subscription) {
      const frame = decodeFrame(message.data)!;
      expect(frame.kind).toBe(FrameKind.close);
      expect(JSON.parse(frame.payload.toString())).toEqual({ code: 4502, reason: 'pty_failed' });
    }
    const { rows } = await env.deps.pool.query('SELECT closed_at FROM compute.terminal_sessions WHERE id = $1', [session.sessionId]);
    expect(rows[0].closed_at).toBeInstanceOf(Date);
  });

  it('leaves the session open when the agent attached', async () => {
    const { owner, allocationId } = await ownedAllocation();
    const { token } = await createTerminalToken(env.deps, identityOf(owner), allocationId);
    const session = await openTerminalSession(env.deps, allocationId, token);
    const client = await env.deps.pool.connect();
    try {
      await applyTerminalTaskOutcome(
        client,
        env.deps,
        { id: 'task', nodeId: world.nodeId, kind: 'open_terminal', allocationId, payload: { terminal_session_id: session.sessionId } },
        { status: 'succeeded', result: { relay_session_id: session.sessionId } },
      );
    } finally {
      client.release();
    }
    const { rows } = await env.deps.pool.query('SELECT closed_at FROM compute.terminal_sessions WHERE id = $1', [session.sessionId]);
    expect(rows[0].closed_at).toBeNull();
  });
});

import { AppError, Forbidden, NotFound, Unauthenticated } from '@gpuaas/errors';
import { uuidv7, withTransaction } from '@gpuaas/db';
import type { GatewayIdentity } from '@gpuaas/auth';
import type { ComputeConfig } from '../config.js';
import type { ComputeDeps } from '../deps.js';
import { queueNodeTask, wakeNode } from '../nodes/tasks.js';
import {
  closeTerminalSession,
  findAllocationAccess,
  insertTerminalSession,
  spendTerminalToken,
  type AllocationAccess,
} from './repository.js';
import { isTerminalTokenShape, newTerminalToken, terminalTokenHash, TERMINAL_PROTOCOL } from './tokens.js';

/** What the terminal area runs on: a subset of ComputeDeps, so the rest-adapter's relay can host it too. */
export interface TerminalDeps extends Pick<ComputeDeps, 'pool' | 'nats' | 'logger'> {
  readonly config: Pick<ComputeConfig, 'natsNamespace' | 'terminalWsBaseUrl' | 'policies'>;
}

export interface IssuedTerminalToken {
  readonly allocationId: string;
  readonly token: string;
  readonly protocol: string;
  readonly wsUrl: string;
  readonly expiresAt: Date;
}

/** Project roles that may manage allocations (and so open their shells); viewers only read. */
const MANAGING_ROLES = new Set(['owner', 'admin', 'member']);

/** Path of the browser's websocket on the rest-adapter, under config.terminalWsBaseUrl. */
export const browserTerminalPath = (allocationId: string) => `/terminal/${allocationId}`;

/** Path of the agent's websocket (openAgentTerminalRelay), relative to the agent's API base URL. */
export const agentTerminalPath = (sessionId: string) => `/internal/v1/terminal/${sessionId}`;

/**
 * Why a caller may not open a shell of this allocation, or nothing: another project's allocation answers like a
 * missing one; a viewer is forbidden; only an active allocation has a shell.
 */
function refusal(allocation: AllocationAccess | undefined): AppError | undefined {
  if (!allocation || allocation.role === null) return NotFound('Allocation');
  if (!MANAGING_ROLES.has(allocation.role)) return Forbidden('Opening a terminal needs a project role that may manage allocations');
  if (allocation.state !== 'active' || allocation.nodeId === null) {
    return new AppError('invalid_state_transition', `A terminal needs an active allocation; this one is ${allocation.state}`, {
      state: allocation.state,
    });
  }
  return undefined;
}

/** createAllocationTerminalToken: a one-use token bound to the allocation and the caller. */
export async function createTerminalToken(deps: TerminalDeps, identity: GatewayIdentity, allocationId: string): Promise<IssuedTerminalToken> {
  if (identity.userId === null) throw Unauthenticated('This operation needs a signed-in user');
  const allocation = await findAllocationAccess(deps.pool, allocationId, identity.userId);
  const refused = refusal(allocation);
  if (refused) throw refused;
  const token = newTerminalToken();
  const { expiresAt } = await insertTerminalSession(deps.pool, {
    id: uuidv7(),
    allocationId,
    userId: identity.userId,
    tokenHash: terminalTokenHash(token),
    ttlSeconds: deps.config.policies.terminal_token_ttl_seconds,
  });
  return {
    allocationId,
    token,
    protocol: TERMINAL_PROTOCOL,
    wsUrl: new URL(browserTerminalPath(allocationId), deps.config.terminalWsBaseUrl).toString(),
    expiresAt,
  };
}

export interface OpenedTerminalSession {
  readonly sessionId: string;
  readonly allocationId: string;
  readonly nodeId: string;
  readonly userId: string;
}

/**
 * Spends a token presented on the browser's websocket for `allocationId`. The token is spent by this first use
 * whatever follows; the caller's role and the allocation's state are checked again, since both may have changed
 * since the token was issued. A token that is unknown, spent, expired or bound to another allocation answers
 * `unauthenticated`.
 */
export async function openTerminalSession(deps: TerminalDeps, allocationId: string, token: string): Promise<OpenedTerminalSession> {
  if (!isTerminalTokenShape(token)) throw Unauthenticated('The terminal token is invalid');
  const session = await spendTerminalToken(deps.pool, terminalTokenHash(token));
  if (!session) throw Unauthenticated('The terminal token is invalid, expired or already used');
  if (session.allocationId !== allocationId) {
    await closeTerminalSession(deps.pool, session.id);
    throw Unauthenticated('The terminal token is not valid for this allocation');
  }
  const allocation = await findAllocationAccess(deps.pool, allocationId, session.userId);
  const refused = refusal(allocation);
  if (refused) {
    await closeTerminalSession(deps.pool, session.id);
    throw refused;
  }
  return { sessionId: session.id, allocationId, nodeId: allocation!.nodeId!, userId: session.userId };
}

/**
 * Asks the allocation's node to attach its side of the session (an open_terminal task) and wakes its long-poll.
 * An allocation holds one open task per kind, so while another terminal's open_terminal is still open this
 * waits for it (agents finish them as soon as they attach), until `deadline`.
 */
export async function requestAgentAttach(deps: TerminalDeps, session: OpenedTerminalSession, deadline: number): Promise<string> {
  const payload = {
    terminal_session_id: session.sessionId,
    relay_url: agentTerminalPath(session.sessionId),
    ttl_seconds: deps.config.policies.terminal_token_ttl_seconds,
  };
  for (;;) {
    const queued = await withTransaction(deps.pool, (client) =>
      queueNodeTask(client, { nodeId: session.nodeId, kind: 'open_terminal', allocationId: session.allocationId, payload }),
    );
    if (queued.created) {
      wakeNode(deps, session.nodeId);
      return queued.id;
    }
    if (Date.now() > deadline) throw new AppError('service_unavailable', 'The node is still opening another terminal; try again');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ends the session's record; called when either side of the relay closes. */
export async function endTerminalSession(deps: Pick<TerminalDeps, 'pool'>, sessionId: string): Promise<void> {
  await closeTerminalSession(deps.pool, sessionId);
}

import type pg from 'pg';
import type { ComputeDeps } from '../deps.js';
import { closeTerminalSession } from './repository.js';
import { encodeFrame, FrameKind, terminalSubjects } from './subjects.js';

export interface TerminalTask {
  readonly id: string;
  readonly nodeId: string;
  readonly kind: string;
  readonly allocationId: string | null;
  readonly payload: Record<string, unknown>;
}

export interface TerminalTaskOutcome {
  readonly status: 'succeeded' | 'failed';
  readonly result?: Record<string, unknown> | null;
  readonly error?: { code: string; message: string } | null;
}

/** Close code a browser sees when the agent could not attach or start the shell (a private-use code, 4000–4999). */
export const AGENT_FAILED_CLOSE_CODE = 4502;

/**
 * The outcome of an open_terminal task, in the transaction that records it (nodes/ calls this). `succeeded` means
 * the agent attached its socket: the session lives on in the relay. `failed` ends the session: closed_at is set
 * and the browser's side is told to close (a lost signal still ends it at the relay's attach timeout).
 */
export async function applyTerminalTaskOutcome(
  client: pg.PoolClient,
  deps: Pick<ComputeDeps, 'nats' | 'config' | 'logger'>,
  task: TerminalTask,
  outcome: TerminalTaskOutcome,
): Promise<void> {
  const sessionId = task.payload['terminal_session_id'];
  if (typeof sessionId !== 'string') return;
  if (outcome.status === 'succeeded') return;
  const closed = await closeTerminalSession(client, sessionId);
  deps.logger.info({ sessionId, taskId: task.id, error: outcome.error }, 'agent could not open a terminal');
  if (!closed) return;
  const reason = JSON.stringify({ code: AGENT_FAILED_CLOSE_CODE, reason: outcome.error?.code ?? 'agent_failed' });
  try {
    deps.nats.publish(terminalSubjects(deps.config.natsNamespace, sessionId).toBrowser, encodeFrame(FrameKind.close, reason));
  } catch {
    // The relay's attach timeout closes the browser's socket anyway.
  }
}

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What the agent keeps across restarts so it does not register again. */
export interface AgentState {
  readonly controlPlaneUrl: string;
  readonly nodeId: string;
  readonly nodeCredential: string;
  readonly region: string;
  readonly heartbeatIntervalSeconds: number;
  readonly taskWaitMaxSeconds: number;
  readonly taskLeaseSeconds: number;
  readonly registeredAt: string;
}

/** Reads the state file; a missing file is no state, a malformed one is an error (never silently re-register). */
export async function readAgentState(path: string): Promise<AgentState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = JSON.parse(text) as Partial<AgentState>;
  if (typeof state.nodeId !== 'string' || typeof state.nodeCredential !== 'string' || typeof state.controlPlaneUrl !== 'string') {
    throw new Error(`state file ${path} lacks nodeId, nodeCredential or controlPlaneUrl`);
  }
  return state as AgentState;
}

/** Writes atomically and readable by the owner only: the file holds a credential. */
export async function writeAgentState(path: string, state: AgentState): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

import type { Logger } from '@gpuaas/telemetry';
import type { Agent } from '../agent.js';
import { createTerminalHost, type TerminalHost } from './open-terminal.js';

/**
 * Plugs browser terminals into an agent: open_terminal tasks attach a PTY shell of the allocation to the relay.
 * Call before agent.start() (registration advertises `capabilities.terminal`); close the returned host on stop.
 */
export function registerTerminal(agent: Pick<Agent, 'registerTaskHandler'>, options: { dataDir: string; logger: Logger }): TerminalHost {
  const host = createTerminalHost(options);
  agent.registerTaskHandler('open_terminal', async (task, context) => ({
    ...(await host.openTerminal({ allocationId: task.allocation_id, payload: task.payload ?? {} }, context)),
  }));
  return host;
}

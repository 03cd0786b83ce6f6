import type { WebSocket } from 'ws';
import type { TerminalDeps } from '@gpuaas/subgraph-compute/terminal';
import type { Logger } from '@gpuaas/telemetry';

/** What both sides of the relay share within one rest-adapter replica. */
export interface RelayContext {
  readonly deps: TerminalDeps;
  readonly logger: Logger;
  /** How long the browser's side waits for the node's agent to attach. */
  readonly attachTimeoutMs: number;
  forget(socket: WebSocket): void;
}

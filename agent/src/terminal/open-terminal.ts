import { WebSocket, type RawData } from 'ws';
import type { Logger } from '@gpuaas/telemetry';
import { bridgeShell } from './bridge.js';
import { TERMINAL_PROTOCOL } from './framing.js';
import { spawnAllocationShell } from './shell.js';

/** A failed open_terminal task, with the agent-side error code the task result carries. */
export class TerminalTaskError extends Error {
  constructor(
    readonly code: 'invalid_payload' | 'relay_unreachable' | 'shell_failed',
    message: string,
  ) {
    super(message);
    this.name = 'TerminalTaskError';
  }
}

/** Where the relay is and how the node proves itself (the agent's TaskContext has both). */
export interface RelayConnection {
  /** The control plane's base URL (the rest-adapter), http(s); the relay socket is opened against it. */
  readonly controlPlaneUrl: string;
  /** The node credential (read at each open, since re-registration may replace it). */
  readonly nodeCredential: () => string;
}

export interface TerminalHostOptions {
  /** The agent's data directory; shells run in `<dataDir>/allocations/<allocationId>`. */
  readonly dataDir: string;
  readonly logger: Logger;
  /** How long the relay socket may take to open. */
  readonly connectTimeoutMs?: number;
}

export interface OpenTerminalTask {
  readonly allocationId: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** The task result the contract names for open_terminal. */
export interface OpenTerminalResult {
  readonly relay_session_id: string;
}

export interface TerminalHost {
  /**
   * Runs an open_terminal task: attaches to the relay and starts the allocation's shell; resolves once both are
   * up (the task then succeeded; the session lives on until either side ends it). Rejects with a
   * TerminalTaskError.
   */
  openTerminal(task: OpenTerminalTask, relay: RelayConnection): Promise<OpenTerminalResult>;
  /** Sessions bridged right now. */
  readonly openSessions: number;
  /** Ends every session (agent shutdown). */
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createTerminalHost(options: TerminalHostOptions): TerminalHost {
  const sockets = new Set<WebSocket>();

  async function openTerminal(task: OpenTerminalTask, relay: RelayConnection): Promise<OpenTerminalResult> {
    const sessionId = task.payload['terminal_session_id'];
    const relayUrl = task.payload['relay_url'];
    if (typeof sessionId !== 'string' || !UUID.test(sessionId) || typeof relayUrl !== 'string' || !task.allocationId || !UUID.test(task.allocationId)) {
      throw new TerminalTaskError('invalid_payload', 'open_terminal needs an allocation, terminal_session_id and relay_url');
    }
    const socket = await connectRelay(relayUrlOf(relay.controlPlaneUrl, relayUrl), relay.nodeCredential(), options.connectTimeoutMs ?? 10_000);
    // Keystrokes may arrive while the shell is still starting: hold them, and replay them once it is bridged.
    const early: Array<[RawData, boolean]> = [];
    const hold = (data: RawData, isBinary: boolean) => early.push([data, isBinary]);
    socket.on('message', hold);
    let shell;
    try {
      shell = await spawnAllocationShell({ dataDir: options.dataDir, allocationId: task.allocationId });
    } catch (error) {
      socket.close(1011, 'shell failed');
      throw new TerminalTaskError('shell_failed', error instanceof Error ? error.message : String(error));
    }
    socket.off('message', hold);
    sockets.add(socket);
    bridgeShell(shell, socket, early, () => {
      sockets.delete(socket);
      options.logger.info({ sessionId, allocationId: task.allocationId }, 'terminal session ended');
    });
    options.logger.info({ sessionId, allocationId: task.allocationId }, 'terminal session attached');
    return { relay_session_id: sessionId };
  }

  return {
    openTerminal,
    get openSessions() {
      return sockets.size;
    },
    async close() {
      const closing = [...sockets].map((socket) => new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1001, 'agent shutting down');
      }));
      await Promise.all(closing);
    },
  };
}

/** `relay_url` is a path under the control plane (or an absolute ws URL); http(s) becomes ws(s). */
export function relayUrlOf(controlPlaneUrl: string, relayUrl: string): string {
  const url = new URL(relayUrl, controlPlaneUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.toString();
}

function connectRelay(url: string, credential: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, [TERMINAL_PROTOCOL], { headers: { authorization: `Bearer ${credential}` }, handshakeTimeout: timeoutMs });
    const fail = (message: string) => {
      socket.removeAllListeners('open');
      socket.terminate();
      reject(new TerminalTaskError('relay_unreachable', message));
    };
    socket.once('open', () => {
      socket.removeAllListeners('unexpected-response');
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('unexpected-response', (_request, response) => fail(`the relay refused the session (HTTP ${response.statusCode})`));
    socket.once('error', (error) => fail(`the relay is unreachable: ${error.message}`));
  });
}

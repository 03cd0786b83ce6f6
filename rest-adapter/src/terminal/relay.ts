import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { NotFound } from '@gpuaas/errors';
import { TERMINAL_PROTOCOL, type TerminalDeps } from '@gpuaas/subgraph-compute/terminal';
import { correlationIdFrom, type Logger } from '@gpuaas/telemetry';
import { admitAgent, runAgentSide } from './agent-side.js';
import { admitBrowser, runBrowserSide } from './browser-side.js';
import { refuseUpgrade } from './refusal.js';
import type { RelayContext } from './relay-context.js';

export interface TerminalRelayOptions {
  readonly deps: TerminalDeps;
  readonly logger: Logger;
  /** How long a browser waits for the node's agent to attach (default 30 s). */
  readonly attachTimeoutMs?: number;
}

export interface TerminalRelay {
  /** Closes every terminal socket of this replica (each peer is told), so the HTTP server can drain. */
  close(): Promise<void>;
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const BROWSER_PATH = new RegExp(`^/terminal/(${UUID})$`);
const AGENT_PATH = new RegExp(`^/internal/v1/terminal/(${UUID})$`);
/** Terminal frames are keystrokes and screenfuls; anything bigger is not a terminal. */
const MAX_FRAME_BYTES = 256 * 1024;

/**
 * Serves terminal websockets on the rest-adapter's HTTP server: browsers at `/terminal/{allocationId}` (token in
 * Sec-WebSocket-Protocol) and node agents at `/internal/v1/terminal/{sessionId}` (node credential). The two
 * sockets of a session may land on different replicas; they meet over core NATS subjects.
 */
export function attachTerminalRelay(server: Server, options: TerminalRelayOptions): TerminalRelay {
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    handleProtocols: (protocols) => (protocols.has(TERMINAL_PROTOCOL) ? TERMINAL_PROTOCOL : false),
  });
  const relay: RelayContext = {
    deps: options.deps,
    logger: options.logger,
    attachTimeoutMs: options.attachTimeoutMs ?? 30_000,
    forget: (socket) => sockets.delete(socket),
  };

  const accept = (request: IncomingMessage, raw: Duplex, head: Buffer): Promise<WebSocket> =>
    new Promise((resolve) =>
      wss.handleUpgrade(request, raw, head, (socket) => {
        sockets.add(socket);
        socket.on('error', (error) => options.logger.debug({ err: error }, 'terminal socket error'));
        resolve(socket);
      }),
    );

  const onUpgrade = async (request: IncomingMessage, raw: Duplex, head: Buffer) => {
    const correlationId = correlationIdFrom(request.headers['x-correlation-id']);
    raw.on('error', () => raw.destroy());
    const path = (request.url ?? '').split('?')[0] ?? '';
    let run: () => Promise<void>;
    try {
      const browser = BROWSER_PATH.exec(path);
      const agent = AGENT_PATH.exec(path);
      if (browser) {
        const session = await admitBrowser(relay, browser[1]!.toLowerCase(), request);
        run = async () => runBrowserSide(relay, await accept(request, raw, head), session);
      } else if (agent) {
        const sessionId = await admitAgent(relay, agent[1]!.toLowerCase(), request);
        run = async () => runAgentSide(relay, await accept(request, raw, head), sessionId);
      } else {
        throw NotFound(`Websocket endpoint ${path}`);
      }
    } catch (error) {
      // Before the handshake a refusal is an HTTP answer with the usual error body.
      options.logger.info({ err: error, path, correlation_id: correlationId }, 'terminal websocket refused');
      if (!raw.destroyed) refuseUpgrade(raw, error, correlationId);
      return;
    }
    await run().catch((error: unknown) => {
      options.logger.warn({ err: error, path, correlation_id: correlationId }, 'terminal relay failed');
      for (const socket of sockets) if ((socket as unknown as { _socket?: Duplex })._socket === raw) socket.close(1011, 'relay failed');
      if (!raw.destroyed) raw.destroy();
    });
  };

  const listener = (request: IncomingMessage, raw: Duplex, head: Buffer) => void onUpgrade(request, raw, head);
  server.on('upgrade', listener);

  return {
    async close() {
      server.off('upgrade', listener);
      await Promise.all(
        [...sockets].map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === socket.CLOSED) return resolve();
              socket.once('close', () => resolve());
              socket.close(1001, 'server shutting down');
              setTimeout(() => socket.terminate(), 2_000).unref();
            }),
        ),
      );
      wss.close();
    },
  };
}

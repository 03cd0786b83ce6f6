import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { AppError, Unauthenticated } from '@gpuaas/errors';
import {
  endTerminalSession,
  openTerminalSession,
  requestAgentAttach,
  terminalSubjects,
  TERMINAL_PROTOCOL,
  type OpenedTerminalSession,
} from '@gpuaas/subgraph-compute/terminal';
import { openNatsLink, FrameKind } from './nats-link.js';
import { bytesOf, closeFrame, deliverToSocket, forwardFromSocket } from './pipe.js';
import type { RelayContext } from './relay-context.js';

/** Keystrokes typed before the agent attached are held up to this much; more closes the session. */
const MAX_PENDING_BYTES = 64 * 1024;
/** Close code when the node's agent never attached in time (private range). */
export const AGENT_TIMEOUT_CLOSE_CODE = 4504;

/**
 * The token offered beside the protocol in Sec-WebSocket-Protocol (`gpuaas.terminal.v1, <token>`). A query
 * string is refused outright, so a token pasted into a URL is never looked at, let alone spent.
 */
export function browserTokenOf(request: IncomingMessage): string {
  if ((request.url ?? '').includes('?')) {
    throw new AppError('validation_error', 'The terminal token is never accepted in a URL; offer it in Sec-WebSocket-Protocol', {
      fields: [{ field: 'query', message: 'must be empty' }],
    });
  }
  const offered = String(request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
  const tokens = offered.filter((value) => value !== TERMINAL_PROTOCOL);
  if (!offered.includes(TERMINAL_PROTOCOL) || tokens.length !== 1) {
    throw Unauthenticated(`Offer "${TERMINAL_PROTOCOL}" and the terminal token in Sec-WebSocket-Protocol`);
  }
  return tokens[0]!;
}

/** Spends the token before the handshake, so a refused browser learns why from the HTTP answer. */
export function admitBrowser(relay: RelayContext, allocationId: string, request: IncomingMessage): Promise<OpenedTerminalSession> {
  return openTerminalSession(relay.deps, allocationId, browserTokenOf(request));
}

/**
 * Runs the browser's side of a session: holds early keystrokes, asks the node's agent to attach (open_terminal),
 * then relays both ways over NATS until either side closes.
 */
export async function runBrowserSide(relay: RelayContext, socket: WebSocket, session: OpenedTerminalSession): Promise<void> {
  const subjects = terminalSubjects(relay.deps.config.natsNamespace, session.sessionId);
  const flow = { pausedPeer: false };
  let link: Awaited<ReturnType<typeof openNatsLink>> | undefined;
  // Frames typed before the agent attached, each prefixed with its FrameKind; undefined once attached.
  let pending: Buffer[] | undefined = [];
  let pendingBytes = 0;

  const holdUntilAttached = (data: Buffer, isBinary: boolean) => {
    pendingBytes += data.byteLength;
    if (pendingBytes > MAX_PENDING_BYTES) {
      socket.close(1009, 'too much input before the terminal attached');
      return;
    }
    pending!.push(Buffer.concat([Buffer.from([isBinary ? FrameKind.data : FrameKind.control]), data]));
  };

  socket.on('message', (data, isBinary) => {
    if (link && !pending) forwardFromSocket(link, data, isBinary);
    else holdUntilAttached(bytesOf(data), isBinary);
  });

  const attachTimer = setTimeout(() => socket.close(AGENT_TIMEOUT_CLOSE_CODE, 'the node did not attach the terminal'), relay.attachTimeoutMs);

  let ended = false;
  socket.once('close', (code, reason) => {
    ended = true;
    clearTimeout(attachTimer);
    link?.send(FrameKind.close, closeFrame(code === 1005 || code === 1006 ? 1000 : code, reason.toString('utf8') || 'browser closed'));
    link?.close();
    relay.forget(socket);
    endTerminalSession(relay.deps, session.sessionId).catch((error: unknown) =>
      relay.logger.warn({ err: error, sessionId: session.sessionId }, 'could not mark the terminal session closed'),
    );
  });

  link = await openNatsLink(relay.deps.nats, subjects.toBrowser, subjects.toAgent, (frame) => {
    if (frame.kind === FrameKind.attached) {
      clearTimeout(attachTimer);
      const held = pending ?? [];
      pending = undefined;
      for (const chunk of held) link!.send(chunk[0] as FrameKind, chunk.subarray(1));
      return;
    }
    deliverToSocket(socket, link!, frame, flow);
  });
  if (ended) {
    link.close();
    return;
  }

  try {
    await requestAgentAttach(relay.deps, session, Date.now() + relay.attachTimeoutMs);
  } catch (error) {
    relay.logger.warn({ err: error, sessionId: session.sessionId }, 'could not ask the node to attach the terminal');
    socket.close(1011, 'the terminal could not be opened');
  }
}

import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { NotFound } from '@gpuaas/errors';
import { authenticateNode } from '@gpuaas/subgraph-compute/nodes';
import { findAttachableSession, terminalSubjects } from '@gpuaas/subgraph-compute/terminal';
import { openNatsLink, FrameKind } from './nats-link.js';
import { bytesOf, closeFrame, deliverToSocket } from './pipe.js';
import type { RelayContext } from './relay-context.js';

/**
 * Checks the node credential and that the session belongs to an allocation on that node, before the handshake.
 * Another node's session answers like a missing one.
 */
export async function admitAgent(relay: RelayContext, sessionId: string, request: IncomingMessage): Promise<string> {
  const header = request.headers.authorization ?? '';
  // The same check as every node-agent API call (shape, current, node not retired).
  const nodeId = await authenticateNode(relay.deps.pool, /^Bearer (\S+)$/i.exec(header)?.[1]);
  const session = await findAttachableSession(relay.deps.pool, sessionId, nodeId);
  if (!session) throw NotFound('Terminal session');
  return session.id;
}

/** Runs the agent's side: subscribes, tells the browser's side it is attached, then relays until either closes. */
export async function runAgentSide(relay: RelayContext, socket: WebSocket, sessionId: string): Promise<void> {
  const subjects = terminalSubjects(relay.deps.config.natsNamespace, sessionId);
  const flow = { pausedPeer: false };
  const early: Array<{ kind: FrameKind; data: Buffer }> = [];
  let link: Awaited<ReturnType<typeof openNatsLink>> | undefined;
  let ended = false;

  socket.on('message', (data, isBinary) => {
    const frame = { kind: isBinary ? FrameKind.data : FrameKind.control, data: bytesOf(data) };
    if (link) link.send(frame.kind, frame.data);
    else early.push(frame);
  });
  socket.once('close', (code, reason) => {
    ended = true;
    link?.send(FrameKind.close, closeFrame(code === 1005 || code === 1006 ? 1000 : code, reason.toString('utf8') || 'terminal ended'));
    link?.close();
    relay.forget(socket);
  });

  link = await openNatsLink(relay.deps.nats, subjects.toAgent, subjects.toBrowser, (frame) => deliverToSocket(socket, link!, frame, flow));
  link.send(FrameKind.attached, '');
  for (const frame of early.splice(0)) link.send(frame.kind, frame.data);
  if (ended) link.close();
}

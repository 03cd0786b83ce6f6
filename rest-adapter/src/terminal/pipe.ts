import type { RawData, WebSocket } from 'ws';
import { FrameKind, type Frame, type NatsLink } from './nats-link.js';

/** Bytes queued on a socket above which the far end is asked to pause, and below which to resume. */
const HIGH_WATER_BYTES = 512 * 1024;
const LOW_WATER_BYTES = 128 * 1024;
/** A reader this far behind despite `pause` is dropped rather than buffered without bound. */
const HARD_LIMIT_BYTES = 8 * 1024 * 1024;

/** Close codes a peer may relay: ws accepts 1000–1003, 1007–1014 and the 3000–4999 range. */
export function relayableCloseCode(code: unknown): number {
  if (typeof code !== 'number' || !Number.isInteger(code)) return 1000;
  if (code >= 3000 && code <= 4999) return code;
  if ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)) return code;
  return 1000;
}

const closeReason = (reason: unknown) => (typeof reason === 'string' ? reason.slice(0, 120) : '');

/** A websocket message as bytes (ws hands over Buffer, Buffer[] or ArrayBuffer depending on options). */
export function bytesOf(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
}

/**
 * Delivers frames arriving from NATS to a local websocket: data as binary, control as text, close as a close.
 * While the socket is backed up the peer is asked to `pause` (it stops reading its shell), then to `resume`.
 */
export function deliverToSocket(socket: WebSocket, link: NatsLink, frame: Frame, state: { pausedPeer: boolean }): void {
  if (socket.readyState !== socket.OPEN) return;
  if (frame.kind === FrameKind.close) {
    const { code, reason } = parseClose(frame.payload);
    socket.close(relayableCloseCode(code), closeReason(reason));
    return;
  }
  if (frame.kind !== FrameKind.data && frame.kind !== FrameKind.control) return;
  const afterSend = () => {
    if (state.pausedPeer && socket.bufferedAmount < LOW_WATER_BYTES) {
      state.pausedPeer = false;
      link.send(FrameKind.control, JSON.stringify({ type: 'resume' }));
    }
  };
  if (frame.kind === FrameKind.data) socket.send(frame.payload, { binary: true }, afterSend);
  else socket.send(frame.payload.toString('utf8'), { binary: false }, afterSend);
  if (socket.bufferedAmount > HARD_LIMIT_BYTES) {
    socket.close(1013, 'reader too slow');
    return;
  }
  if (!state.pausedPeer && socket.bufferedAmount > HIGH_WATER_BYTES) {
    state.pausedPeer = true;
    link.send(FrameKind.control, JSON.stringify({ type: 'pause' }));
  }
}

/** A frame from the local websocket, as it travels to the peer. */
export function forwardFromSocket(link: NatsLink, data: RawData, isBinary: boolean): void {
  link.send(isBinary ? FrameKind.data : FrameKind.control, bytesOf(data));
}

export function closeFrame(code: number, reason: string): string {
  return JSON.stringify({ code, reason });
}

function parseClose(payload: Buffer): { code?: unknown; reason?: unknown } {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as { code?: unknown; reason?: unknown }) : {};
  } catch {
    return {};
  }
}

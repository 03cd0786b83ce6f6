import { subjectFor } from '@gpuaas/events';

/**
 * Core-NATS subjects one terminal session is relayed over, so the browser's socket and the agent's socket may
 * sit on different rest-adapter replicas. Each message is one frame: a kind byte, then the frame's bytes.
 */
export function terminalSubjects(natsNamespace: string, sessionId: string) {
  const base = subjectFor(natsNamespace, `compute.terminal.${sessionId}`);
  return { toAgent: `${base}.to-agent`, toBrowser: `${base}.to-browser` } as const;
}

export const FrameKind = {
  /** Terminal bytes (a binary websocket frame). */
  data: 0,
  /** A JSON control message (a text websocket frame), e.g. resize, pause, resume, exit. */
  control: 1,
  /** The sending side closed; the payload is a JSON `{code, reason}`. */
  close: 2,
  /** Relay-internal: the agent's socket is attached and subscribed (sent to the browser's side only). */
  attached: 3,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export function encodeFrame(kind: FrameKind, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const frame = new Uint8Array(body.byteLength + 1);
  frame[0] = kind;
  frame.set(body, 1);
  return frame;
}

export function decodeFrame(message: Uint8Array): { kind: FrameKind; payload: Buffer } | undefined {
  const kind = message[0];
  if (kind === undefined || kind > FrameKind.attached) return undefined;
  // A copy: the message's bytes may share memory the NATS client reuses, and sockets send asynchronously.
  return { kind: kind as FrameKind, payload: Buffer.from(message.subarray(1)) };
}

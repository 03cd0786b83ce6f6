/**
 * gpuaas.terminal.v1 on the wire (browser ↔ platform ↔ agent): binary frames are terminal bytes, text frames are
 * JSON control messages. Kept dependency-free so the console and the agent can share the same rules.
 */
export const TERMINAL_PROTOCOL = 'gpuaas.terminal.v1';

export type ControlMessage =
  | { readonly type: 'resize'; readonly cols: number; readonly rows: number }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'exit'; readonly code: number };

const MAX_DIMENSION = 1000;

const isDimension = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_DIMENSION;

/** A control message from a text frame, or undefined for anything malformed or unknown (ignored, never fatal). */
export function parseControl(text: string): ControlMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  switch (message['type']) {
    case 'resize':
      return isDimension(message['cols']) && isDimension(message['rows']) ? { type: 'resize', cols: message['cols'], rows: message['rows'] } : undefined;
    case 'pause':
    case 'resume':
      return { type: message['type'] };
    case 'exit':
      return Number.isInteger(message['code']) ? { type: 'exit', code: message['code'] as number } : undefined;
    default:
      return undefined;
  }
}

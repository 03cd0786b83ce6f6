import { createHash, randomBytes } from 'node:crypto';

/** The websocket subprotocol browsers and agents speak (see createAllocationTerminalToken, openAgentTerminalRelay). */
export const TERMINAL_PROTOCOL = 'gpuaas.terminal.v1';

/** `tt_` + 256 random bits, url-safe: valid as a Sec-WebSocket-Protocol token (RFC 6455 token characters). */
export function newTerminalToken(): string {
  return `tt_${randomBytes(32).toString('base64url')}`;
}

/** Only the hash is stored, so a leaked row never opens a shell. */
export function terminalTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What a token can look like; anything else is refused without a database round trip. */
export function isTerminalTokenShape(value: string): boolean {
  return /^tt_[A-Za-z0-9_-]{43}$/.test(value);
}

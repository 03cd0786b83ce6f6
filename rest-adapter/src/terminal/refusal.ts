import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { toErrorResponse } from '@gpuaas/errors';

/**
 * Answers an upgrade request that is refused before the handshake with the usual error body, then drops the
 * connection (there is no express response object on the upgrade path).
 */
export function refuseUpgrade(socket: Duplex, error: unknown, correlationId: string): void {
  const { status, body } = toErrorResponse(error, correlationId);
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(json)}\r\n` +
        `X-Correlation-Id: ${correlationId}\r\n` +
        'Connection: close\r\n\r\n' +
        json,
    );
  }
  socket.destroy();
}

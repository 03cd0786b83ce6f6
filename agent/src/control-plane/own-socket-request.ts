import http from 'node:http';
import https from 'node:https';

export interface RawResponse {
  readonly status: number;
  readonly text: string;
}

/**
 * One request on a connection of its own, destroyed when `signal` aborts. A long-poll aborted through fetch leaves
 * its pooled keep-alive connection to the pool, and the control plane may hold the poll (and its socket, delaying its
 * own shutdown by seconds) for an agent that is gone; closing the connection ends the poll there at once.
 */
export function ownSocketRequest(url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; signal: AbortSignal }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const { signal } = init;
    if (signal.aborted) return reject(signal.reason);
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? https : http).request(target, { method: init.method, headers: init.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        signal.removeEventListener('abort', abort);
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    function fail(error: Error) {
      signal.removeEventListener('abort', abort);
      reject(signal.aborted ? signal.reason : error);
    }
    function abort() {
      request.destroy();
    }
    signal.addEventListener('abort', abort, { once: true });
    request.on('error', fail);
    request.end();
  });
}

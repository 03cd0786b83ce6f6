import http from 'node:http';
import https from 'node:https';

export interface RawResponse {
  readonly status: number;
  readonly text: string;
}

export interface HttpRequestInit {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

export type HttpRequest = (url: string, init: HttpRequestInit) => Promise<RawResponse>;

/**
 * Requests to the control plane over kept-alive connections (node:http, not fetch: an agent's task loops make a few
 * calls per task, and fetch costs several times the CPU per call). An aborted request destroys its connection instead
 * of returning it to the pool, so the control plane ends a long-poll held for a loop that has stopped at once (and
 * never answers a task into a connection nobody reads).
 */
export function createHttpRequest(): HttpRequest & { close(): void } {
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) } as const;
  const send: HttpRequest = (url, init) =>
    new Promise((resolve, reject) => {
      const { signal } = init;
      if (signal.aborted) return reject(signal.reason);
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const headers = init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
      const request = (secure ? https : http).request(target, { method: init.method, headers, agent: agents[secure ? 'https:' : 'http:'] }, (response) => {
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
      request.end(init.body);
    });
  return Object.assign(send, {
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}

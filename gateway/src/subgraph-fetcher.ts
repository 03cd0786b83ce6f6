import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';

type Fetcher = RemoteGraphQLDataSource['fetcher'];

export interface SubgraphFetcherOptions {
  /** Idle sockets kept per subgraph (default 64). */
  readonly maxIdleSockets?: number;
  /** An idle socket is closed after this long (default 60 s), before the services' 65 s keep-alive timeout. */
  readonly idleTimeoutMs?: number;
}

/**
 * The fetcher the gateway calls subgraphs with: a plain `node:http` POST over keep-alive sockets. Under load Node's
 * built-in fetch cost about a fifth of the gateway's CPU per request (web streams around a string body, a WASM HTTP
 * parser, Request/Headers objects), for a call that is always one small JSON body out and one JSON body back.
 */
export function createSubgraphFetcher(options: SubgraphFetcherOptions = {}): Fetcher {
  const agentOptions = { keepAlive: true, scheduling: 'lifo' as const, maxFreeSockets: options.maxIdleSockets ?? 64, timeout: options.idleTimeoutMs ?? 60_000 };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  const fetcher = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    new Promise<SubgraphResponse>((resolve, reject) => {
      const target = new URL(url);
      const transport = target.protocol === 'https:' ? https : http;
      const body = init.body ?? '';
      const request = transport.request(
        target,
        {
          method: init.method ?? 'POST',
          agent: agents[target.protocol === 'https:' ? 'https:' : 'http:'],
          headers: { ...init.headers, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('error', reject);
          response.once('end', () => resolve(new SubgraphResponse(url, response.statusCode ?? 0, response.statusMessage ?? '', response.headers, Buffer.concat(chunks).toString('utf8'))));
        },
      );
      request.once('error', reject);
      // Headers and body leave in one write.
      request.end(body);
    });
  return fetcher as unknown as Fetcher;
}

/** The part of a Fetch API response that RemoteGraphQLDataSource reads: status, headers, and the body as text or JSON. */
class SubgraphResponse {
  readonly ok: boolean;
  readonly redirected = false;
  readonly headers: ResponseHeaders;
  #bodyUsed = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    headers: IncomingHttpHeaders,
    readonly body: string,
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = new ResponseHeaders(headers);
  }

  get bodyUsed(): boolean {
    return this.#bodyUsed;
  }

  async text(): Promise<string> {
    this.#bodyUsed = true;
    return this.body;
  }

  async json(): Promise<unknown> {
    this.#bodyUsed = true;
    return JSON.parse(this.body) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    this.#bodyUsed = true;
    const bytes = Buffer.from(this.body, 'utf8');
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  clone(): SubgraphResponse {
    return this;
  }
}

/** Read-only response headers, looked up case-insensitively like Fetch's Headers. */
class ResponseHeaders {
  constructor(readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) yield [name, this.get(name)!];
  }

  *keys(): IterableIterator<string> {
    yield* Object.keys(this.raw);
  }

  *values(): IterableIterator<string> {
    for (const name of Object.keys(this.raw)) yield this.get(name)!;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

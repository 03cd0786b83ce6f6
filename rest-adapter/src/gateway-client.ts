import http from 'node:http';
import https from 'node:https';
import { AppError, isErrorCode, type ErrorDetails } from '@gpuaas/errors';
import { withSpan, type Logger } from '@gpuaas/telemetry';

/** What a REST request hands on to the gateway about its caller. */
export interface ForwardedRequest {
  /** The caller's `Authorization` header, verbatim; only sent for operations that take a bearer. */
  readonly authorization: string | undefined;
  readonly correlationId: string;
  /** The client's socket address; the gateway trusts it because it comes from a proxy it knows. */
  readonly clientAddress: string | undefined;
}

export interface GraphqlRequest {
  readonly document: string;
  readonly operationName?: string | undefined;
  readonly variables?: Readonly<Record<string, unknown>>;
  /** A query (no side effects): sent again, once, when a kept-alive connection turns out to have been closed. */
  readonly idempotent?: boolean;
}

export interface GatewayClient {
  /** Resolves with `data` when the gateway answered without errors; otherwise throws the catalog AppError. */
  execute<TData = Record<string, unknown>>(request: GraphqlRequest, forwarded: ForwardedRequest): Promise<TData>;
  close(): void | Promise<void>;
}

export interface GatewayClientOptions {
  /** The gateway's `/graphql` URL. */
  readonly url: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

export interface GraphqlError {
  readonly message?: unknown;
  readonly extensions?: { readonly code?: unknown; readonly details?: unknown };
}

export interface GraphqlResponse {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphqlError[];
}

/**
 * POSTs GraphQL documents to the gateway over kept-alive connections. The first GraphQL error decides the answer:
 * a catalog `extensions.code` becomes that AppError with its `details`; anything else is logged and answers
 * `internal_error` without echoing it. A gateway that cannot be reached (or does not answer in time) is
 * `service_unavailable`, which clients may retry.
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const url = new URL(options.url);
  const transport = url.protocol === 'https:' ? https : http;
  // Idle sockets are closed after 60 s, before the services' 65 s keep-alive timeout, so a reuse rarely races the
  // server's close; LIFO reuse keeps the pool small and warm under steady load.
  const agent = new transport.Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 256, maxFreeSockets: 64, timeout: 60_000, scheduling: 'lifo' });
  // The URL's parts once, not re-read from a URL object per request (IPv6 hosts lose their brackets, as Node wants).
  const target = { protocol: url.protocol, hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port, path: `${url.pathname}${url.search}`, method: 'POST', agent, timeout: options.timeoutMs };

  async function post(body: string, forwarded: ForwardedRequest, idempotent: boolean): Promise<{ status: number; text: string }> {
    try {
      return await postOnce(body, forwarded);
    } catch (error) {
      // A reused idle connection the gateway closed at the same moment fails before any answer: nothing ran, so a
      // query is safe to send again on a fresh connection. Mutations are never resent.
      if (!idempotent || !(error instanceof StaleConnection)) throw error;
      return postOnce(body, forwarded);
    }
  }

  function postOnce(body: string, forwarded: ForwardedRequest): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-correlation-id': forwarded.correlationId,
    };
    if (forwarded.authorization !== undefined) headers['authorization'] = forwarded.authorization;
    if (forwarded.clientAddress !== undefined) headers['x-forwarded-for'] = forwarded.clientAddress;
    return new Promise((resolve, reject) => {
      let answered = false;
      const request = transport.request({ ...target, headers }, (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      request.on('timeout', () => request.destroy(new GatewayTimeout(options.timeoutMs)));
      request.on('error', (error: NodeJS.ErrnoException) => {
        const stale = request.reusedSocket && !answered && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        reject(stale ? new StaleConnection(error) : error);
      });
      request.end(body);
    });
  }

  return {
    async execute<TData>(request: GraphqlRequest, forwarded: ForwardedRequest): Promise<TData> {
      const name = request.operationName ?? 'anonymous';
      return withSpan(`graphql ${name}`, { 'graphql.operation.name': name, 'correlation.id': forwarded.correlationId }, async () => {
        const body = JSON.stringify({ query: request.document, operationName: request.operationName, variables: request.variables ?? {} });
        let answer: { status: number; text: string };
        try {
          answer = await post(body, forwarded, request.idempotent === true);
        } catch (error) {
          options.logger.warn({ err: error, correlation_id: forwarded.correlationId, operation: name }, 'gateway unreachable');
          throw new AppError('service_unavailable', 'The API gateway is unavailable; retry shortly', undefined, { cause: error });
        }
        return resultOf<TData>(answer, name, forwarded.correlationId, options.logger);
      });
    },
    close: () => agent.destroy(),
  };
}

class StaleConnection extends Error {
  constructor(cause: Error) {
    super(`a kept-alive connection to the gateway was closed: ${cause.message}`, { cause });
    this.name = 'StaleConnection';
  }
}

class GatewayTimeout extends Error {
  constructor(ms: number) {
    super(`the gateway did not answer within ${ms} ms`);
    this.name = 'GatewayTimeout';
  }
}

function resultOf<TData>(answer: { status: number; text: string }, operation: string, correlationId: string, logger: Logger): TData {
  let parsed: GraphqlResponse;
  try {
    parsed = JSON.parse(answer.text) as GraphqlResponse;
  } catch {
    if (answer.status >= 500) throw new AppError('service_unavailable', 'The API gateway is unavailable; retry shortly');
    logger.error({ status: answer.status, correlation_id: correlationId, operation }, 'gateway answered something that is not JSON');
    throw internalError();
  }
  return dataOf<TData>(answer.status, parsed, operation, correlationId, logger);
}

/**
 * The gateway's answer (status and GraphQL body) → its `data`, or the AppError of its first error. Shared by the
 * remote and embedded clients so both map errors identically.
 */
export function dataOf<TData>(status: number, body: GraphqlResponse, operation: string, correlationId: string, logger: Logger): TData {
  const [first] = body.errors ?? [];
  if (first) throw toAppError(first, operation, correlationId, logger);
  if (status !== 200 || typeof body.data !== 'object' || body.data === null) {
    logger.error({ status, correlation_id: correlationId, operation }, 'gateway answered without data or errors');
    throw internalError();
  }
  return body.data as TData;
}

/** Catalog codes pass through with message and details; unknown ones are logged here and never reach the client. */
export function toAppError(error: GraphqlError, operation: string, correlationId: string, logger: Logger): AppError {
  const code = error.extensions?.code;
  if (!isErrorCode(code) || code === 'internal_error') {
    logger.error({ graphql_error: error, correlation_id: correlationId, operation }, 'gateway answered an internal error or one without a catalog code');
    return internalError();
  }
  const details = error.extensions?.details;
  const message = typeof error.message === 'string' && error.message.length > 0 ? error.message : code;
  return new AppError(code, message, isObject(details) ? (details as ErrorDetails) : undefined);
}

function internalError(): AppError {
  return new AppError('internal_error', 'An unexpected error occurred');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

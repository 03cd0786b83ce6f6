import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { HeaderMap } from '@apollo/server';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AppError, toErrorResponse } from '@gpuaas/errors';
import { correlationIdFrom, runWithContext, tracer, type Logger, type ServiceMetrics } from '@gpuaas/telemetry';
import type { GatewayEngine } from './engine.js';
import { refusalBody } from './engine.js';

export interface GraphqlFrontOptions {
  readonly engine: GatewayEngine;
  /** The service name of spans and metrics, as createHttpService uses it. */
  readonly service: string;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  /** Largest body taken on this path; larger ones go to Express, which answers 413 as before. */
  readonly bodyLimitBytes: number;
}

/**
 * Serves the common case of `/graphql` — a JSON POST with a Content-Length and no query string — straight on
 * node:http, ahead of Express: the same correlation id, server span, duration metric, authentication, Apollo HTTP
 * handling and answers as the Express route, without its router, body-parser and response helpers (the gateway's
 * hottest path). Everything else (GET, other content types or encodings, chunked bodies, a query string, another
 * path) is handed to Express unchanged. `server`'s request listener (the Express app) is wrapped in place.
 */
export function serveGraphqlPostsFirst(server: Server, options: GraphqlFrontOptions): void {
  const [express, ...others] = server.listeners('request') as RequestListener[];
  // ci-allow canonical_error_guard: start-up wiring error, never a client's doing
  if (!express || others.length > 0) throw new Error('expected exactly one request listener (the Express app) on the gateway server');
  const handle = graphqlPostHandler(options);
  server.removeListener('request', express);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!takes(req, options.bodyLimitBytes)) {
      express(req, res);
      return;
    }
    handle(req, res);
  });
}

/** Only what the Express route would treat exactly the same way. */
function takes(req: IncomingMessage, limit: number): boolean {
  if (req.method !== 'POST' || req.url !== '/graphql') return false;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const length = req.headers['content-length'];
  if (length === undefined || !/^\d+$/.test(length) || Number(length) > limit) return false;
  return isJsonUtf8(req.headers['content-type']);
}

/** `application/json`, with no charset or UTF-8 (what express.json() decodes itself; others are left to it). */
function isJsonUtf8(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [essence = '', ...parameters] = contentType.split(';');
  if (essence.trim().toLowerCase() !== 'application/json') return false;
  return parameters.every((parameter) => {
    const [name = '', value = ''] = parameter.split('=');
    return name.trim().toLowerCase() !== 'charset' || /^"?utf-8"?$/i.test(value.trim());
  });
}

function graphqlPostHandler(options: GraphqlFrontOptions) {
  const { engine, metrics, logger } = options;
  const spans = tracer(options.service);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const correlationId = correlationIdFrom(req.headers['x-correlation-id']);
    res.setHeader('X-Correlation-Id', correlationId);
    const started = process.hrtime.bigint();
    const span = spans.startSpan('POST /graphql', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'POST', 'url.path': '/graphql', 'correlation.id': correlationId },
    });
    res.on('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      // The Express route is a mounted middleware, which Express reports without a route template.
      metrics.httpRequestDuration.observe({ method: 'POST', route: 'unmatched', status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    runWithContext({ correlationId }, () => {
      answer(req, res, correlationId).catch((error: unknown) => {
        // As the service's error handler: logged, a bare 500 internal_error, never a stack.
        logger.error({ err: error, correlation_id: correlationId }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, toErrorResponse(error, correlationId).body);
        else res.destroy();
      });
    });
  };

  async function answer(req: IncomingMessage, res: ServerResponse, correlationId: string): Promise<void> {
    // The body is read while the caller is authenticated; as on the Express route, a refused credential is
    // answered before the body is looked at.
    const text = readBody(req);
    const identity = await engine.identify({
      authorization: req.headers.authorization,
      correlationId,
      ip: engine.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']),
    });
    if (identity instanceof AppError) {
      text.catch(() => undefined);
      sendJson(res, identity.httpStatus, refusalBody(identity, correlationId));
      return;
    }
    const body = parseJsonBody(await text);
    if (body instanceof AppError) {
      const refused = toErrorResponse(body, correlationId);
      sendJson(res, refused.status, refused.body);
      return;
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await engine.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: '', body },
      context: async () => ({ correlationId, identity }),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.setHeader('Content-Length', Buffer.byteLength(response.body.string));
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * As express.json() (strict) reads a body: empty is `{}`, only an object or array is JSON here, anything else is the
 * 400 the service's error handler makes of body-parser's `entity.parse.failed`.
 */
function parseJsonBody(text: string): unknown {
  if (text.length === 0) return {};
  const first = /^[\x20\x09\x0a\x0d]*(.)/s.exec(text)?.[1];
  if (first === '{' || first === '[') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Falls through to the same refusal as a body that is not an object or array.
    }
  }
  return new AppError('validation_error', 'The request body is not valid JSON', { fields: [{ field: 'body', message: 'malformed JSON' }] });
}

/** As Express's res.json(): UTF-8 JSON with its length. */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

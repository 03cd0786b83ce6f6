import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AppError, toErrorResponse } from '@gpuaas/errors';
import { correlationIdFrom, createMetrics, runWithContext, tracer, type Logger, type ServiceMetrics } from '@gpuaas/telemetry';

/** A readiness check resolves when the dependency is usable and throws (with a short reason) when it is not. */
export type ReadinessCheck = () => Promise<void>;

export interface HttpServiceOptions {
  name: string;
  host: string;
  /** 0 picks a free port (tests, the dev launcher). */
  port: number;
  logger: Logger;
  readiness?: Record<string, ReadinessCheck>;
  /** Mounts the service's own routes; called after the shared middleware and before the 404/error handlers. */
  configure?: (app: Express, metrics: ServiceMetrics) => void | Promise<void>;
  /** Extra work on close (after the listener stops), e.g. closing pools. */
  onClose?: () => Promise<void>;
}

export interface HttpService {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly metrics: ServiceMetrics;
  close(): Promise<void>;
}

/**
 * Starts an Express service with what every deployable needs: correlation ids, one traced span per request,
 * request metrics, `/healthz` (liveness), `/readyz` (dependencies), `/metrics`, catalog errors for unknown
 * routes and thrown errors, and a close() that stops accepting, drains and then runs `onClose`.
 */
export async function createHttpService(options: HttpServiceOptions): Promise<HttpService> {
  const app = express();
  app.disable('x-powered-by');
  const metrics = createMetrics(options.name);
  let shuttingDown = false;

  app.use(traceHttp(options.name, metrics));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await runReadiness(options.readiness ?? {});
    const ready = !shuttingDown && Object.values(checks).every((c) => c.status === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', service: options.name, shutting_down: shuttingDown, checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  await options.configure?.(app, metrics);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new AppError('not_found', `No route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(options.logger));

  const server = await listen(app, options.host, options.port);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  options.logger.info({ url }, `${options.name} listening`);

  return {
    name: options.name,
    url,
    port,
    server,
    metrics,
    async close() {
      if (shuttingDown) return;
      shuttingDown = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await options.onClose?.();
      options.logger.info(`${options.name} closed`);
    },
  };
}

/** Wraps every request in a server span and the correlation-id context; also feeds the duration histogram. */
export function traceHttp(service: string, metrics: ServiceMetrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const correlationId = correlationIdFrom(req.headers['x-correlation-id']);
    res.setHeader('X-Correlation-Id', correlationId);
    res.locals['correlationId'] = correlationId;
    const started = process.hrtime.bigint();
    const span = tracer(service).startSpan(`${req.method} ${req.path}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'url.path': req.path, 'correlation.id': correlationId },
    });
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? (res.locals['operationId'] as string | undefined) ?? 'unmatched';
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequestDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
    });
    runWithContext({ correlationId }, () => next());
  };
}

export function errorHandler(logger: Logger) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const correlationId = (res.locals['correlationId'] as string | undefined) ?? correlationIdFrom(undefined);
    const bodyParserError = fromBodyParser(error);
    const { status, body } = toErrorResponse(bodyParserError ?? error, correlationId);
    if (status >= 500) logger.error({ err: error, correlation_id: correlationId }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}

/** express.json() throws http-errors with `type`; turn the ones a client causes into catalog errors. */
function fromBodyParser(error: unknown): AppError | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return new AppError('validation_error', 'The request body is not valid JSON', { fields: [{ field: 'body', message: 'malformed JSON' }] });
  if (type === 'entity.too.large') return new AppError('payload_too_large', 'The request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new AppError('unsupported_media_type', 'Unsupported body encoding');
  return undefined;
}

async function runReadiness(checks: Record<string, ReadinessCheck>): Promise<Record<string, { status: 'ok' | 'failing'; error?: string }>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), 2000);
        return [name, { status: 'ok' as const }] as const;
      } catch (error) {
        return [name, { status: 'failing' as const, error: error instanceof Error ? error.message : String(error) }] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error instanceof Error ? error : new Error(String(error))); },
    );
  });
}

/**
 * Idle keep-alive connections are kept well past Node's 5 s default: the platform's own clients (REST adapter →
 * gateway, gateway → subgraphs) reuse pooled sockets, and a server closing one just as a client reuses it fails
 * that request with ECONNRESET. Longer than the usual 60 s proxy idle timeout, for the same reason.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

function listen(app: Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // Must exceed keepAliveTimeout, or a reused socket can be cut while a request's headers arrive.
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Context, Handler, OpenAPIBackend, Request as OpenApiRequest } from 'openapi-backend';
import { AppError, toErrorResponse, Unauthenticated, Validation } from '@gpuaas/errors';
import type { IdempotencyStore } from '@gpuaas/idempotency';
import type { Logger } from '@gpuaas/telemetry';
import type { Contract, ContractOperation } from '../contract/load-contract.js';
import type { GatewayClient } from '../gateway-client.js';
import type { OperationContext, OperationHandler, OperationRegistry, OperationResult } from '../operations/registry.js';
import { API_PATH } from './body-parsers.js';
import { bearerTokenFrom, refuseCredentialsInQuery, takesBearer } from './credentials.js';
import { idempotent, takesIdempotencyKey } from './idempotency.js';
import { createPathMatcher } from './path-matcher.js';
import { toFieldIssues, type AjvIssue } from './validation-errors.js';

interface WireOptions {
  contract: Contract;
  registry: OperationRegistry;
  logger: Logger;
  gateway: GatewayClient;
  idempotency: IdempotencyStore;
}

/**
 * Registers on openapi-backend what happens at each step: routing misses (404/405), the edge checks
 * (credentials in a query string, media type, presence of credentials), validation failures (400 with
 * field details), the registered handlers, and 501 for every operation nobody serves yet.
 */
export function wireOperations(api: OpenAPIBackend, { contract, registry, logger, gateway, idempotency }: WireOptions): void {
  const operations = new Map(contract.operations.map((operation) => [operation.operationId, operation]));
  const unknown = registry.operationIds().filter((id) => !operations.has(id));
  // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
  if (unknown.length > 0) throw new Error(`handlers registered for operations the contract does not define: ${unknown.join(', ')}`);
  const matcher = createPathMatcher(contract.operations);
  const operationOf = (c: Context) => (c.operation?.operationId ? operations.get(c.operation.operationId) : undefined);

  api.register({
    postRoutingHandler: (c: Context, req: Request, res: Response) => {
      const operation = operationOf(c);
      if (operation) res.locals['operationId'] = operation.operationId;
      refuseCredentialsInQuery(req.query as Record<string, unknown>, operation?.queryParameterNames ?? []);
      if (operation) refuseUnsupportedMediaType(req, operation);
    },
    notFound: (_c: Context, req: Request) => {
      throw new AppError('not_found', `No route for ${req.method} ${req.path}`);
    },
    methodNotAllowed: (_c: Context, req: Request, res: Response) => {
      const allowed = matcher.allowedMethods(req.path);
      res.setHeader('Allow', allowed.join(', '));
      throw new AppError('method_not_allowed', `${req.method} is not allowed on ${req.path}`, { allowed_methods: allowed });
    },
    unauthorizedHandler: (c: Context) => {
      if (operationOf(c)?.security.some((schemes) => schemes.includes('stripeSignature'))) {
        throw new AppError('webhook_signature_invalid', 'The Stripe-Signature header is missing');
      }
      throw Unauthenticated('Authentication required: send an Authorization: Bearer header');
    },
    validationFail: (c: Context) => {
      throw Validation(toFieldIssues((c.validation.errors ?? []) as AjvIssue[]));
    },
    notImplemented: (c: Context) => {
      const operationId = c.operation.operationId ?? 'unknown';
      throw new AppError('not_implemented', `${operationId} is in the contract but not served yet`, { operation_id: operationId });
    },
  });

  for (const [name, check] of Object.entries(securityChecks(contract))) api.registerSecurityHandler(name, check);

  for (const operationId of registry.operationIds()) {
    const operation = operations.get(operationId) as ContractOperation;
    const registered = registry.get(operationId) as OperationHandler;
    const handler = takesIdempotencyKey(operation) ? idempotent(idempotency, operation, registered) : registered;
    const scoped = logger.child({ operation_id: operationId });
    api.register(operationId, (c: Context, req: Request, res: Response) => handler(operationContext(operation, c, req, res, scoped, gateway)));
  }
}

/** Express middleware routing every /api and /internal request through openapi-backend and sending the result. */
export function openApiMiddleware(api: OpenAPIBackend): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!API_PATH.test(req.path)) return next();
    try {
      refuseBadPercentEncoding(req.path);
      const request: OpenApiRequest = {
        method: req.method,
        path: req.path,
        headers: req.headers as OpenApiRequest['headers'],
        query: req.query as OpenApiRequest['query'],
        body: req.body as unknown,
      };
      send(res, (await api.handleRequest(request, req, res)) as OperationResult);
    } catch (error) {
      // Catalog errors are answers, not failures: render them here so only unexpected ones reach the
      // service's error handler (which logs them and answers a bare 500).
      if (!(error instanceof AppError) || res.headersSent) return next(error);
      const retryAfter = error.code === 'rate_limited' ? error.details?.['retry_after_seconds'] : undefined;
      if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(Math.max(0, Math.ceil(retryAfter))));
      const { status, body } = toErrorResponse(error, res.locals['correlationId'] as string);
      res.status(status).json(body);
    }
  };
}

function operationContext(operation: ContractOperation, c: Context, req: Request, res: Response, logger: Logger, gateway: GatewayClient): OperationContext {
  const correlationId = res.locals['correlationId'] as string;
  const forwarded = {
    // Only operations that take a bearer forward one: a stale token must not fail a login or a token refresh.
    authorization: takesBearer(operation) ? req.headers.authorization : undefined,
    correlationId,
    clientAddress: clientAddressOf(req),
  };
  return {
    operationId: operation.operationId,
    method: req.method,
    path: req.path,
    params: (c.request.params ?? {}) as Record<string, string>,
    query: (c.request.query ?? {}) as Record<string, unknown>,
    headers: req.headers,
    body: c.request.requestBody as unknown,
    rawBody: res.locals['rawBody'] as Buffer | undefined,
    bearerToken: bearerTokenFrom(req.headers.authorization),
    correlationId,
    logger,
    graphql: (document, variables) =>
      gateway.execute(
        typeof document === 'string' ? { document, variables: variables ?? {} } : { document: document.source, operationName: document.name, variables: variables ?? {} },
        forwarded,
      ),
  };
}

/** The peer of this connection (the adapter is the first hop, so no X-Forwarded-For of the client's is believed). */
function clientAddressOf(req: Request): string | undefined {
  const address = req.socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

function send(res: Response, result: OperationResult): void {
  // ci-allow canonical_error_guard: a handler bug, answered as a bare 500 internal_error by the service error handler
  if (typeof result?.status !== 'number') throw new Error('operation handler returned no status');
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  res.status(result.status);
  if (result.body === undefined) res.end();
  else res.json(result.body);
}

/**
 * Presence and shape only: a bearer scheme needs a well-formed `Authorization: Bearer …`, an API-key header
 * scheme its header. Verifying the credential is the handlers' job (through the gateway or a domain service).
 * Schemes of any other kind fail closed.
 */
function securityChecks(contract: Contract): Record<string, Handler> {
  const components = (contract.document as { components?: { securitySchemes?: Record<string, Record<string, unknown>> } }).components;
  const checks: Record<string, Handler> = {};
  for (const [name, scheme] of Object.entries(components?.securitySchemes ?? {})) {
    if (scheme['type'] === 'http' && String(scheme['scheme']).toLowerCase() === 'bearer') {
      checks[name] = (c: Context) => bearerTokenFrom((c.request.headers as Record<string, string | undefined>)['authorization']) !== undefined;
    } else if (scheme['type'] === 'apiKey' && scheme['in'] === 'header') {
      const header = String(scheme['name']).toLowerCase();
      checks[name] = (c: Context) => {
        const value = (c.request.headers as Record<string, unknown>)[header];
        return typeof value === 'string' && value.trim().length > 0;
      };
    } else {
      checks[name] = () => false;
    }
  }
  return checks;
}

function refuseUnsupportedMediaType(req: Request, operation: ContractOperation): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody || operation.requestContentTypes.length === 0) return;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (operation.requestContentTypes.some((accepted) => mediaTypeMatches(accepted.toLowerCase(), type))) return;
  throw new AppError('unsupported_media_type', `${operation.operationId} accepts ${operation.requestContentTypes.join(', ')}`, {
    accepted_content_types: operation.requestContentTypes,
  });
}

function mediaTypeMatches(accepted: string, actual: string): boolean {
  if (accepted === actual || accepted === '*/*') return true;
  return accepted.endsWith('/*') && actual.startsWith(accepted.slice(0, -1));
}

function refuseBadPercentEncoding(path: string): void {
  try {
    decodeURIComponent(path);
  } catch {
    throw Validation([{ field: 'path', message: 'is not valid percent-encoding' }]);
  }
}

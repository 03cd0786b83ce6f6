import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { OpenAPIBackend, Operation } from 'openapi-backend';
import { AppError, toErrorResponse, Unauthenticated, Validation } from '@gpuaas/errors';
import type { IdempotencyStore } from '@gpuaas/idempotency';
import type { Logger } from '@gpuaas/telemetry';
import type { Contract, ContractOperation } from '../contract/load-contract.js';
import type { GatewayClient } from '../gateway-client.js';
import type { OperationContext, OperationHandler, OperationRegistry, OperationResult } from '../operations/registry.js';
import { API_PATH } from './body-parsers.js';
import { bearerTokenFrom, refuseCredentialsInQuery, takesBearer } from './credentials.js';
import { idempotent, takesIdempotencyKey } from './idempotency.js';
import { createOperationRouter } from './operation-router.js';
import { createPathMatcher } from './path-matcher.js';
import { createRequestValidator, type RequestValidator, type ValidatedRequest } from './request-validator.js';
import { toFieldIssues } from './validation-errors.js';

interface DispatchOptions {
  contract: Contract;
  registry: OperationRegistry;
  logger: Logger;
  gateway: GatewayClient;
  idempotency: IdempotencyStore;
}

/** One operation ready to serve: how to check its callers and its request, and what answers it. */
interface Route {
  readonly operation: ContractOperation;
  readonly security: ReadonlyArray<readonly string[]>;
  readonly validate: RequestValidator;
  readonly handler: OperationHandler | undefined;
  readonly logger: Logger;
}

/**
 * Express middleware for every /api and /internal request, in openapi-backend's order: route (404/405), the edge
 * checks (credentials in a query string, media type), security (presence of credentials), validation (400 with
 * field details), then the registered handler or 501 for an operation nobody serves yet. Routing and each
 * operation's validators are prepared here, once; openapi-backend supplies the dereferenced operations and the
 * compiled Ajv validators.
 */
export function createApiDispatch(api: OpenAPIBackend, { contract, registry, logger, gateway, idempotency }: DispatchOptions): RequestHandler {
  const operations = new Map(contract.operations.map((operation) => [operation.operationId, operation]));
  const unknown = registry.operationIds().filter((id) => !operations.has(id));
  // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
  if (unknown.length > 0) throw new Error(`handlers registered for operations the contract does not define: ${unknown.join(', ')}`);
  const matcher = createPathMatcher(contract.operations);
  const checks = securityChecks(contract);

  const resolved = api.router.getOperations();
  const router = createOperationRouter(resolved);
  const routes = new Map<Operation, Route>();
  for (const resolvedOperation of resolved) {
    const operationId = resolvedOperation.operationId as string;
    const operation = operations.get(operationId) as ContractOperation;
    const registered = registry.get(operationId);
    const handler = registered && takesIdempotencyKey(operation) ? idempotent(idempotency, operation, registered) : registered;
    routes.set(resolvedOperation, {
      operation,
      security: (resolvedOperation.security ?? []).map((requirement) => Object.keys(requirement)),
      validate: createRequestValidator(api, resolvedOperation),
      handler,
      logger: registered ? logger.child({ operation_id: operationId }) : logger,
    });
  }

  async function serve(req: Request, res: Response): Promise<OperationResult> {
    refuseBadPercentEncoding(req.path);
    const match = router.match(req.method, req.path);
    if (match.kind !== 'found') {
      refuseCredentialsInQuery(req.query as Record<string, unknown>, []);
      if (match.kind === 'not_found') throw new AppError('not_found', `No route for ${req.method} ${req.path}`);
      const allowed = matcher.allowedMethods(req.path);
      res.setHeader('Allow', allowed.join(', '));
      throw new AppError('method_not_allowed', `${req.method} is not allowed on ${req.path}`, { allowed_methods: allowed });
    }
    const route = routes.get(match.operation) as Route;
    const { operation } = route;
    res.locals['operationId'] = operation.operationId;
    refuseCredentialsInQuery(req.query as Record<string, unknown>, operation.queryParameterNames);
    refuseUnsupportedMediaType(req, operation);

    // Any one requirement satisfied (all of its schemes present) is enough; no requirement at all means anonymous.
    if (route.security.length > 0 && !route.security.some((schemes) => schemes.every((name) => checks[name]?.(req.headers) === true))) {
      if (operation.security.some((schemes) => schemes.includes('stripeSignature'))) {
        throw new AppError('webhook_signature_invalid', 'The Stripe-Signature header is missing');
      }
      throw Unauthenticated('Authentication required: send an Authorization: Bearer header');
    }

    const validated = route.validate({ params: match.params, query: req.query as Record<string, unknown>, headers: req.headers, body: req.body as unknown });
    if (validated.errors) throw Validation(toFieldIssues(validated.errors));

    if (!route.handler) {
      throw new AppError('not_implemented', `${operation.operationId} is in the contract but not served yet`, { operation_id: operation.operationId });
    }
    return route.handler(operationContext(operation, match.params, validated, req, res, route.logger, gateway));
  }

  return async (req: Request, res: Response, next: NextFunction) => {
    if (!API_PATH.test(req.path)) return next();
    try {
      send(res, await serve(req, res));
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

function operationContext(
  operation: ContractOperation,
  params: Record<string, string>,
  validated: ValidatedRequest,
  req: Request,
  res: Response,
  logger: Logger,
  gateway: GatewayClient,
): OperationContext {
  const correlationId = res.locals['correlationId'] as string;
  const forwarded = {
    // Only operations that take a bearer forward one: a stale token must not fail a login or a token refresh.
    authorization: takesBearer(operation) ? req.headers.authorization : undefined,
    correlationId,
    clientAddress: clientAddressOf(req),
  };
  const disconnected = new AbortController();
  res.once('close', () => disconnected.abort());
  return {
    signal: disconnected.signal,
    operationId: operation.operationId,
    method: req.method,
    path: req.path,
    params,
    query: validated.query,
    headers: req.headers,
    body: validated.body,
    rawBody: res.locals['rawBody'] as Buffer | undefined,
    bearerToken: bearerTokenFrom(req.headers.authorization),
    correlationId,
    logger,
    graphql: (document, variables) =>
      gateway.execute(
        typeof document === 'string'
          ? { document, variables: variables ?? {} }
          : { document: document.source, operationName: document.name, variables: variables ?? {}, idempotent: document.operation.operation === 'query' },
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
type SecurityCheck = (headers: IncomingHttpHeaders) => boolean;

function securityChecks(contract: Contract): Record<string, SecurityCheck> {
  const components = (contract.document as { components?: { securitySchemes?: Record<string, Record<string, unknown>> } }).components;
  const checks: Record<string, SecurityCheck> = {};
  for (const [name, scheme] of Object.entries(components?.securitySchemes ?? {})) {
    if (scheme['type'] === 'http' && String(scheme['scheme']).toLowerCase() === 'bearer') {
      checks[name] = (headers) => bearerTokenFrom(headers.authorization) !== undefined;
    } else if (scheme['type'] === 'apiKey' && scheme['in'] === 'header') {
      const header = String(scheme['name']).toLowerCase();
      checks[name] = (headers) => {
        const value = headers[header];
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

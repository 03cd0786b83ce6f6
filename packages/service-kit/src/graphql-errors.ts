import type { Response } from 'express';
import type { GraphQLFormattedError } from 'graphql';
import { AppError, errorCatalog, isErrorCode, type ErrorCode } from '@gpuaas/errors';
import { currentCorrelationId, type Logger } from '@gpuaas/telemetry';

/**
 * Every GraphQL error leaves with a catalog code in `extensions.code` and the correlation id; unexpected errors
 * lose their message and stack so nothing internal reaches a client. Used by subgraphs and by the gateway, where
 * errors relayed from a subgraph arrive with their catalog code already in `extensions`.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const correlationId = currentCorrelationId();
  const path = formatted.path ? { path: formatted.path } : {};
  const appError = findAppError(error);
  if (appError) {
    return {
      message: appError.message,
      ...path,
      extensions: { code: appError.code, correlation_id: correlationId, ...(appError.details ? { details: appError.details } : {}) },
    };
  }
  const code = formatted.extensions?.['code'];
  if (code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED' || code === 'BAD_USER_INPUT') {
    return { message: formatted.message, extensions: { code: 'validation_error', correlation_id: correlationId } };
  }
  if (isErrorCode(code)) return carried(formatted, code, correlationId);
  if (isPoolExhausted(error)) {
    // Every database connection stayed busy for the pool's whole wait: the caller may retry, nothing was written.
    logger.warn({ correlation_id: correlationId }, 'database pool exhausted');
    return { message: 'The service is busy; retry shortly', ...path, extensions: { code: 'service_unavailable', correlation_id: correlationId } };
  }
  logger.error({ err: originalOf(error) ?? error, correlation_id: correlationId }, 'unexpected GraphQL error');
  return { message: 'An unexpected error occurred', ...path, extensions: { code: 'internal_error', correlation_id: correlationId } };
}

/** pg's Pool rejects a connect() that waited longer than connectionTimeoutMillis with exactly this message. */
function isPoolExhausted(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    if (current instanceof Error && current.message === 'timeout exceeded when trying to connect') return true;
    current = originalOf(current);
  }
  return false;
}

/**
 * Apollo wraps thrown errors (validation rules wrap twice), so look down the `originalError` chain. Duck-typed on
 * purpose: graphql ships CJS and ESM builds, and a process may hold both, so `instanceof GraphQLError` can miss.
 */
function findAppError(error: unknown): AppError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    if (current instanceof AppError) return current;
    current = originalOf(current);
  }
  return undefined;
}

function originalOf(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || !('originalError' in error)) return undefined;
  return error.originalError ?? undefined;
}

/** A catalog code already set (e.g. relayed from a subgraph): keep message, location, path and details only. */
function carried(formatted: GraphQLFormattedError, code: ErrorCode, correlationId: string): GraphQLFormattedError {
  const details = formatted.extensions?.['details'];
  return {
    message: formatted.message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: {
      code,
      correlation_id: correlationId,
      ...(typeof details === 'object' && details !== null ? { details } : {}),
    },
  };
}

/**
 * Answers a whole HTTP request with one GraphQL-shaped error and the catalog's HTTP status, for refusals that
 * happen before GraphQL execution starts (a missing identity at a subgraph, a bad token at the gateway).
 */
export function sendGraphQLError(res: Response, error: AppError, correlationId: string): void {
  res.status(errorCatalog[error.code].httpStatus).json({
    errors: [
      {
        message: error.message,
        extensions: { code: error.code, correlation_id: correlationId, ...(error.details ? { details: error.details } : {}) },
      },
    ],
  });
}

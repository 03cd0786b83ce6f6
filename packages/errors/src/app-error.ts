import { type ErrorCode, httpStatusOf, isErrorCode } from './catalog.js';

export interface FieldIssue {
  /** JSON pointer-ish path of the offending field, e.g. `body.email` or `query.limit`. */
  readonly field: string;
  readonly message: string;
}

export type ErrorDetails = Readonly<Record<string, unknown>> & { readonly fields?: readonly FieldIssue[] };

/** The wire shape of every error response: REST body and GraphQL `extensions`. */
export interface ErrorResponse {
  code: ErrorCode;
  message: string;
  correlation_id: string;
  details?: ErrorDetails;
}

/** A typed error that carries its catalog code; everything thrown on purpose is one of these. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return httpStatusOf(this.code);
  }
}

export const NotFound = (what: string, details?: ErrorDetails) => new AppError('not_found', `${what} not found`, details);
export const Conflict = (message: string, details?: ErrorDetails) => new AppError('conflict', message, details);
export const Forbidden = (message = 'You may not perform this operation', details?: ErrorDetails) =>
  new AppError('forbidden', message, details);
export const Unauthenticated = (message = 'Authentication required') => new AppError('unauthenticated', message);
export const Validation = (fields: readonly FieldIssue[], message = 'The request is invalid') =>
  new AppError('validation_error', message, { fields });
export const NotImplemented = (operation: string) =>
  new AppError('not_implemented', `${operation} is in the contract but not served yet`, { operation_id: operation });

/**
 * Maps anything thrown to the catalog envelope. Unknown errors become `internal_error` with a generic
 * message so that no stack, SQL or driver text ever reaches a client.
 */
export function toErrorResponse(error: unknown, correlationId: string): { status: number; body: ErrorResponse } {
  if (error instanceof AppError) {
    const body: ErrorResponse = { code: error.code, message: error.message, correlation_id: correlationId };
    if (error.details !== undefined) body.details = error.details;
    return { status: error.httpStatus, body };
  }
  const carried = codeCarriedBy(error);
  if (carried) {
    return { status: httpStatusOf(carried.code), body: { code: carried.code, message: carried.message, correlation_id: correlationId } };
  }
  return {
    status: 500,
    body: { code: 'internal_error', message: 'An unexpected error occurred', correlation_id: correlationId },
  };
}

/** GraphQL errors arrive as plain objects with `extensions.code`; honour the code when it is from the catalog. */
function codeCarriedBy(error: unknown): { code: ErrorCode; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const extensions = (error as { extensions?: { code?: unknown } }).extensions;
  const message = (error as { message?: unknown }).message;
  if (extensions && isErrorCode(extensions.code) && typeof message === 'string') {
    return { code: extensions.code, message };
  }
  return undefined;
}

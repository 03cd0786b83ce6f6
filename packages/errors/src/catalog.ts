/**
 * The one error catalog. Every error that leaves a REST or GraphQL boundary carries one of these codes;
 * doc/errors.md is generated from this table (scripts/gen-docs.ts) and a gate fails when it is stale.
 */
export interface ErrorDefinition {
  readonly httpStatus: number;
  readonly meaning: string;
  /** True when a client may retry the same request unchanged and expect a different outcome. */
  readonly retryable: boolean;
}

export const errorCatalog = {
  validation_error: { httpStatus: 400, retryable: false, meaning: 'The request does not match the contract; `details` lists each offending field.' },
  query_too_complex: { httpStatus: 400, retryable: false, meaning: 'A GraphQL operation exceeds the depth or cost limit.' },
  webhook_signature_invalid: { httpStatus: 400, retryable: false, meaning: 'A webhook signature is missing, wrong, or its timestamp is outside the tolerance.' },
  unauthenticated: { httpStatus: 401, retryable: false, meaning: 'No valid credential was presented (missing, malformed, expired or revoked token).' },
  invalid_credentials: { httpStatus: 401, retryable: false, meaning: 'Email and password (or a one-time token) do not match; never says which part.' },
  refresh_token_reused: { httpStatus: 401, retryable: false, meaning: 'A refresh token was used twice; its whole family is revoked and the user must log in again.' },
  insufficient_balance: { httpStatus: 402, retryable: false, meaning: 'The wallet balance or runway is below what the operation needs.' },
  forbidden: { httpStatus: 403, retryable: false, meaning: 'The caller is known but may not perform this operation.' },
  account_suspended: { httpStatus: 403, retryable: false, meaning: 'The account is suspended by an operator; every token it holds stops working.' },
  quota_exceeded: { httpStatus: 403, retryable: false, meaning: 'A per-user policy limit (such as live allocations) is reached.' },
  not_found: { httpStatus: 404, retryable: false, meaning: 'No such object, or the caller may not see it (the two answer alike).' },
  method_not_allowed: { httpStatus: 405, retryable: false, meaning: 'The path exists but not with this HTTP method.' },
  conflict: { httpStatus: 409, retryable: false, meaning: 'The request conflicts with the current state of the object.' },
  already_exists: { httpStatus: 409, retryable: false, meaning: 'An object with the same unique attributes already exists.' },
  invalid_state_transition: { httpStatus: 409, retryable: false, meaning: 'The object is not in a state that allows this operation (e.g. releasing a released allocation).' },
  capacity_unavailable: { httpStatus: 409, retryable: true, meaning: 'No healthy node has a free slot for the requested profile and region; nothing was held.' },
  idempotency_key_reused: { httpStatus: 409, retryable: false, meaning: 'The X-Idempotency-Key was already used with a different request body.' },
  idempotency_request_in_progress: { httpStatus: 409, retryable: true, meaning: 'A request with the same X-Idempotency-Key is still executing; retry to get its response.' },
  task_lease_stale: { httpStatus: 409, retryable: false, meaning: 'A node task result carries a fencing token from an expired lease and is rejected.' },
  payload_too_large: { httpStatus: 413, retryable: false, meaning: 'The request body exceeds the size limit.' },
  unsupported_media_type: { httpStatus: 415, retryable: false, meaning: 'The request body is not in a content type the operation accepts.' },
  unprocessable: { httpStatus: 422, retryable: false, meaning: 'The request is well-formed but violates a business rule (e.g. refund above the refundable amount).' },
  rate_limited: { httpStatus: 429, retryable: true, meaning: 'Too many requests; `details.retry_after_seconds` says when to retry.' },
  internal_error: { httpStatus: 500, retryable: true, meaning: 'An unexpected failure; the correlation id finds it in the logs. No stack is ever returned.' },
  not_implemented: { httpStatus: 501, retryable: false, meaning: 'The operation is in the contract but not served yet.' },
  upstream_error: { httpStatus: 502, retryable: true, meaning: 'A provider the platform depends on (payments, node agent) failed.' },
  service_unavailable: { httpStatus: 503, retryable: true, meaning: 'A dependency (database, broker, cache) is unreachable or the service is shutting down.' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCatalog;

export const errorCodes = Object.keys(errorCatalog) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalog, value);
}

export function httpStatusOf(code: ErrorCode): number {
  return errorCatalog[code].httpStatus;
}

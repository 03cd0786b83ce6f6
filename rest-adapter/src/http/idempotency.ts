import { createHash } from 'node:crypto';
import { AppError } from '@gpuaas/errors';
import { fingerprintRequest, IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, type IdempotencyStore, type StoredResponse } from '@gpuaas/idempotency';
import type { ContractOperation } from '../contract/load-contract.js';
import type { OperationHandler, OperationResult } from '../operations/registry.js';
import { takesBearer } from './credentials.js';

const MUTATING_METHODS: ReadonlySet<string> = new Set(['post', 'put', 'patch', 'delete']);

/** Every mutation honours X-Idempotency-Key, except the Stripe webhook, which dedupes by Stripe's event id. */
export function takesIdempotencyKey(operation: ContractOperation): boolean {
  return MUTATING_METHODS.has(operation.method) && !operation.security.some((schemes) => schemes.includes('stripeSignature'));
}

/**
 * Wraps a mutation so that a request with `X-Idempotency-Key` runs at most once per (caller, operation, key):
 * a repeat with the same method, path and body gets the first answer again with `Idempotent-Replayed: true`,
 * one with another body `409 idempotency_key_reused`, and concurrent duplicates wait for the first.
 *
 * The adapter cannot verify tokens, so the caller is the SHA-256 of the Authorization header it forwards (a
 * different token is a different caller; no key is shared across callers); operations that take no bearer share
 * the anonymous scope, where the request body, part of the fingerprint, still keeps strangers' requests apart.
 */
export function idempotent(store: IdempotencyStore, operation: ContractOperation, handler: OperationHandler): OperationHandler {
  return async (ctx) => {
    const key = parseIdempotencyKey(ctx.headers[IDEMPOTENCY_KEY_HEADER]);
    if (key === undefined) return handler(ctx);
    const authorization = takesBearer(operation) ? ctx.headers.authorization : undefined;
    const principal = authorization ? `bearer:${createHash('sha256').update(authorization).digest('hex')}` : 'anonymous';
    const search = new URLSearchParams(ctx.query as Record<string, string>).toString();
    const requestFingerprint = fingerprintRequest({ method: ctx.method, path: search ? `${ctx.path}?${search}` : ctx.path, body: ctx.body });
    let ran = false;
    try {
      const { response } = await store.execute({ scope: { principal, operationId: operation.operationId }, key, requestFingerprint }, async () => {
        ran = true;
        return toStored(await handler(ctx));
      });
      return fromStored(response);
    } catch (error) {
      // Before the handler ran, anything but a catalog answer (reused key, still in progress) is Redis failing.
      if (ran || error instanceof AppError) throw error;
      ctx.logger.error({ err: error, correlation_id: ctx.correlationId }, 'idempotency store failed');
      throw new AppError('service_unavailable', 'Idempotency records are unavailable; retry shortly', undefined, { cause: error });
    }
  };
}

function toStored(result: OperationResult): StoredResponse {
  return { status: result.status, headers: { ...(result.headers ?? {}) }, body: result.body ?? null };
}

// Bodies are JSON objects or absent: a stored null is an answer without a body (204, 302).
function fromStored(response: StoredResponse): OperationResult {
  return { status: response.status, headers: response.headers, ...(response.body === null ? {} : { body: response.body }) };
}

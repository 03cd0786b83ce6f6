import { Validation } from '@gpuaas/errors';

/** Request header carrying the client's idempotency key (lower-case, as Node exposes headers). */
export const IDEMPOTENCY_KEY_HEADER = 'x-idempotency-key';
/** Response header set on every replayed response. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

const MAX_KEY_LENGTH = 255;
const KEY_PATTERN = /^[\x21-\x7e]+$/;

/**
 * Reads the key from a header value: `undefined` when absent (the request runs without idempotency),
 * a `validation_error` when present but empty, too long or not printable ASCII.
 */
export function parseIdempotencyKey(header: string | readonly string[] | undefined): string | undefined {
  const value = typeof header === 'string' ? header : header?.[0];
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > MAX_KEY_LENGTH || !KEY_PATTERN.test(value)) {
    throw Validation([
      { field: `header.${IDEMPOTENCY_KEY_HEADER}`, message: `must be 1–${MAX_KEY_LENGTH} printable ASCII characters without spaces` },
    ]);
  }
  return value;
}

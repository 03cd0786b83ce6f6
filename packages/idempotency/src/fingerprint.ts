import { createHash } from 'node:crypto';

export interface FingerprintInput {
  readonly method: string;
  /** The concrete request path (with its ids, and its query string when the operation reads one). */
  readonly path: string;
  /** The decoded JSON body; `undefined` when the request has none. */
  readonly body?: unknown;
}

/**
 * JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` fingerprint alike.
 * Values JSON cannot hold (undefined, functions) are dropped from objects the way JSON.stringify drops them.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    return JSON.stringify(value) ?? 'null';
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined && typeof item !== 'function' && typeof item !== 'symbol')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`);
  return `{${entries.join(',')}}`;
}

/** SHA-256 (hex) of method, path and canonical body: two requests match iff they would do the same thing. */
export function fingerprintRequest(input: FingerprintInput): string {
  const canonical = canonicalJson([input.method.toUpperCase(), input.path, input.body ?? null]);
  return createHash('sha256').update(canonical).digest('hex');
}

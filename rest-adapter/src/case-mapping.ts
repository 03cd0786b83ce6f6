/**
 * The one place where REST's snake_case meets GraphQL's camelCase. Keys are renamed deeply through plain
 * objects and arrays; the values of map-like fields (free-form keys chosen by a user or a provider) are
 * copied untouched, because their keys are data, not field names.
 */

/** Fields whose value is a map with caller-chosen keys (snake_case form; the camelCase form is derived). */
export const mapLikeFields: ReadonlySet<string> = new Set([
  'details', // error and audit details
  'labels', // node labels
  'annotations',
  'env', // app instance environment variables
  'metadata',
  'payload', // agent task payloads, event payloads
  'result', // agent task results
  'object', // a Stripe event's data.object, verbatim from Stripe
]);

export interface CaseMappingOptions {
  /** Replaces the default skip list. */
  skip?: ReadonlySet<string>;
}

/** `amount_minor` → `amountMinor`. `_` before a digit stays, so the mapping round-trips (`slice_1g`). */
export function camelKey(key: string): string {
  if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(key)) return key;
  return key.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** `amountMinor` → `amount_minor`. Keys that are not plain camelCase identifiers are kept as they are. */
export function snakeKey(key: string): string {
  if (!/^[a-z][a-zA-Z0-9_]*$/.test(key)) return key;
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** REST request body → GraphQL input. */
export function toCamelCase<T = unknown>(value: unknown, options: CaseMappingOptions = {}): T {
  return mapKeys(value, camelKey, options.skip ?? mapLikeFields) as T;
}

/** GraphQL result → REST response body. */
export function toSnakeCase<T = unknown>(value: unknown, options: CaseMappingOptions = {}): T {
  return mapKeys(value, snakeKey, options.skip ?? mapLikeFields) as T;
}

function mapKeys(value: unknown, rename: (key: string) => string, skip: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => mapKeys(item, rename, skip));
  if (!isPlainObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    result[rename(key)] = skip.has(snakeKey(key)) ? inner : mapKeys(inner, rename, skip);
  }
  return result;
}

/** Only JSON-like objects are walked; Dates, Buffers and class instances pass through as values. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

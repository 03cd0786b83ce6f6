import { isObject, type JsonObject } from './repo.js';

export const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof httpMethods)[number];
const mutationMethods: ReadonlySet<HttpMethod> = new Set(['post', 'put', 'patch', 'delete']);

export interface OperationEntry {
  readonly method: HttpMethod;
  readonly path: string;
  readonly operation: JsonObject;
  /** Parameters declared on the path item, shared by its operations. */
  readonly pathParameters: readonly unknown[];
}

export interface ParameterObject {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly schema?: unknown;
}

export function isMutation(method: HttpMethod): boolean {
  return mutationMethods.has(method);
}

/** Every operation in document order: `GET /api/v1/x`, then the next method or path. */
export function listOperations(doc: JsonObject): OperationEntry[] {
  const entries: OperationEntry[] = [];
  const paths = isObject(doc['paths']) ? doc['paths'] : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = resolveRef(doc, rawItem);
    if (!isObject(item)) continue;
    const pathParameters = Array.isArray(item['parameters']) ? item['parameters'] : [];
    for (const method of httpMethods) {
      const operation = item[method];
      if (isObject(operation)) entries.push({ method, path, operation, pathParameters });
    }
  }
  return entries;
}

export function describeOperation(entry: OperationEntry): string {
  const id = typeof entry.operation['operationId'] === 'string' ? ` (${entry.operation['operationId']})` : '';
  return `${entry.method.toUpperCase()} ${entry.path}${id}`;
}

/** Follows local `$ref`s (`#/components/...`) until a concrete value; an unresolvable ref answers undefined. */
export function resolveRef(doc: JsonObject, value: unknown, seen = new Set<string>()): unknown {
  if (!isObject(value) || typeof value['$ref'] !== 'string') return value;
  const ref = value['$ref'];
  if (!ref.startsWith('#/') || seen.has(ref)) return undefined;
  seen.add(ref);
  let current: unknown = doc;
  for (const segment of ref.slice(2).split('/')) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    current = isObject(current) ? current[key] : undefined;
  }
  return resolveRef(doc, current, seen);
}

/** The name of a `#/components/schemas/<Name>` ref, if that is what `value` is. */
export function schemaRefName(value: unknown): string | undefined {
  if (!isObject(value) || typeof value['$ref'] !== 'string') return undefined;
  const match = /^#\/components\/schemas\/([^/]+)$/.exec(value['$ref']);
  return match?.[1];
}

/** Path-level and operation-level parameters, resolved; the operation's win on name+location. */
export function parametersOf(doc: JsonObject, entry: OperationEntry): ParameterObject[] {
  const byKey = new Map<string, ParameterObject>();
  const own = Array.isArray(entry.operation['parameters']) ? entry.operation['parameters'] : [];
  for (const raw of [...entry.pathParameters, ...own]) {
    const parameter = resolveRef(doc, raw);
    if (isObject(parameter) && typeof parameter['name'] === 'string' && typeof parameter['in'] === 'string') {
      byKey.set(`${parameter['in']}:${parameter['name'].toLowerCase()}`, parameter as unknown as ParameterObject);
    }
  }
  return [...byKey.values()];
}

export function acceptsIdempotencyKey(doc: JsonObject, entry: OperationEntry): boolean {
  return parametersOf(doc, entry).some((p) => p.in === 'header' && p.name.toLowerCase() === 'x-idempotency-key');
}

/** Security scheme names that may call the operation; empty means public (`security: []`). */
export function securitySchemesOf(doc: JsonObject, operation: JsonObject): string[] {
  const requirements = Array.isArray(operation['security']) ? operation['security'] : Array.isArray(doc['security']) ? doc['security'] : [];
  const names = new Set<string>();
  for (const requirement of requirements) if (isObject(requirement)) for (const name of Object.keys(requirement)) names.add(name);
  return [...names];
}

/** Responses of an operation, resolved, keyed by status ('200', '4XX', 'default'…). */
export function responsesOf(doc: JsonObject, operation: JsonObject): Array<[string, JsonObject]> {
  const responses = isObject(operation['responses']) ? operation['responses'] : {};
  const resolved: Array<[string, JsonObject]> = [];
  for (const [status, raw] of Object.entries(responses)) {
    const response = resolveRef(doc, raw);
    if (isObject(response)) resolved.push([status, response]);
  }
  return resolved;
}

export function isErrorStatus(status: string): boolean {
  return status === 'default' || /^[45]/.test(status);
}

export function mediaTypesOf(response: JsonObject): Array<[string, JsonObject]> {
  const content = isObject(response['content']) ? response['content'] : {};
  return Object.entries(content).filter((entry): entry is [string, JsonObject] => isObject(entry[1]));
}

/** Every example value a media type carries: `example` and each `examples.<name>.value`. */
export function examplesOf(doc: JsonObject, media: JsonObject): unknown[] {
  const found: unknown[] = [];
  if ('example' in media) found.push(media['example']);
  if (isObject(media['examples'])) {
    for (const raw of Object.values(media['examples'])) {
      const example = resolveRef(doc, raw);
      if (isObject(example) && 'value' in example) found.push(example['value']);
    }
  }
  return found;
}

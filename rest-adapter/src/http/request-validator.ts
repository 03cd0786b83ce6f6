import type { IncomingHttpHeaders } from 'node:http';
import type { OpenAPIBackend, Operation } from 'openapi-backend';
import type { AjvIssue } from './validation-errors.js';

type Json = Record<string, unknown>;

export interface RequestToValidate {
  readonly params: Record<string, string>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

export interface ValidatedRequest {
  readonly errors: AjvIssue[] | null;
  /** The query as the handler sees it: a copy, types coerced and contract defaults filled in. */
  readonly query: Record<string, unknown>;
  /** The parsed body; Ajv fills contract defaults into it in place. */
  readonly body: unknown;
}

export type RequestValidator = (request: RequestToValidate) => ValidatedRequest;

/**
 * Runs openapi-backend's compiled validators for one operation on the same `{path, query, header, cookie,
 * requestBody}` object its validateRequest builds, without its per-request routing, lodash clones and re-parsing.
 * The contract declares no cookie parameters and no `content`/non-exploded query parameters (start-up refuses
 * one that does), so cookies are `{}` and query values go to Ajv as Express parsed them.
 */
export function createRequestValidator(api: OpenAPIBackend, operation: Operation): RequestValidator {
  const operationId = operation.operationId as string;
  const parameters = (operation.parameters ?? []) as unknown as Json[];
  const unsupported = parameters.filter((p) => p['in'] === 'cookie' || (p['in'] === 'query' && (p['content'] !== undefined || p['explode'] === false)));
  // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
  if (unsupported.length > 0) throw new Error(`${operationId}: cookie, content or non-exploded query parameters are not supported`);
  const arrayQuery = new Set(parameters.filter((p) => p['in'] === 'query' && (p['schema'] as Json | undefined)?.['type'] === 'array').map((p) => String(p['name'])));
  const contentTypes = Object.keys(((operation.requestBody as Json | undefined)?.['content'] ?? {}) as Json);
  const onlyJson = contentTypes.length === 1 && contentTypes[0] === 'application/json';
  const validators = api.validator.getRequestValidatorsForOperation(operationId) ?? [];

  return ({ params, query, headers, body }) => {
    const errors: AjvIssue[] = [];
    const input: Json = { path: { ...params }, query: copyQuery(query, arrayQuery), header: { ...headers }, cookie: {} };
    const parsedBody = parseBody(body);
    if (typeof body !== 'object' && body !== undefined && onlyJson) {
      try {
        JSON.parse(`${String(body)}`);
      } catch (error) {
        errors.push({ keyword: 'parse', instancePath: '', schemaPath: '#/requestBody', params: [], message: (error as Error).message });
      }
    }
    if (typeof parsedBody === 'object' || headers['content-type'] === 'application/json') input['requestBody'] = parsedBody;
    for (const validate of validators) {
      validate(input);
      if (validate.errors) errors.push(...(validate.errors as AjvIssue[]));
    }
    return { errors: errors.length > 0 ? errors : null, query: input['query'] as Record<string, unknown>, body: parsedBody };
  };
}

/** A deep-enough copy (Ajv coerces and fills defaults in place), with single values of array parameters wrapped. */
function copyQuery(query: Readonly<Record<string, unknown>>, arrayQuery: ReadonlySet<string>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    if (typeof value === 'string') copy[name] = arrayQuery.has(name) ? [value] : value;
    else copy[name] = typeof value === 'object' && value !== null ? structuredClone(value) : value;
  }
  return copy;
}

/** As openapi-backend's parseRequest: a body that is not an object is tried as JSON text. */
function parseBody(body: unknown): unknown {
  if (!body || typeof body === 'object') return body;
  try {
    return JSON.parse(String(body)) as unknown;
  } catch {
    return body;
  }
}

import {
  acceptsIdempotencyKey,
  describeOperation,
  isErrorStatus,
  isMutation,
  listOperations,
  mediaTypesOf,
  parametersOf,
  resolveRef,
  responsesOf,
  schemaRefName,
  type OperationEntry,
} from './openapi-model.js';
import { isObject, type JsonObject } from './repo.js';

/** Each operation carries at least one of these (admin/internal ops add their domain as a second tag). */
export const domainTags = ['access', 'compute', 'billing', 'workloads', 'platform', 'internal', 'admin', 'payments'] as const;

const moneyName = /amount|price|cost|balance/i;

/** The REST conventions Redocly cannot express; each problem names the operation or schema and the fix. */
export function checkHouseRules(doc: JsonObject): string[] {
  const problems: string[] = [];
  for (const entry of listOperations(doc)) {
    const where = describeOperation(entry);
    const { operation } = entry;
    if (typeof operation['operationId'] !== 'string' || operation['operationId'] === '') problems.push(`${where}: has no operationId`);
    const tags = Array.isArray(operation['tags']) ? operation['tags'] : [];
    if (!tags.some((tag) => (domainTags as readonly unknown[]).includes(tag))) {
      problems.push(`${where}: needs one of the domain tags ${domainTags.join(', ')} (has ${tags.length ? tags.join(', ') : 'none'})`);
    }
    if (isMutation(entry.method) && !acceptsIdempotencyKey(doc, entry)) {
      problems.push(`${where}: a mutation must accept X-Idempotency-Key (add - $ref: '#/components/parameters/IdempotencyKey')`);
    }
    problems.push(...checkErrorResponses(doc, entry, where));
    problems.push(...checkPagination(doc, entry, where));
  }
  problems.push(...checkMoneyFields(doc));
  return problems;
}

function checkErrorResponses(doc: JsonObject, entry: OperationEntry, where: string): string[] {
  const problems: string[] = [];
  for (const [status, response] of responsesOf(doc, entry.operation)) {
    if (!isErrorStatus(status)) continue;
    const media = mediaTypesOf(response);
    if (media.length === 0) problems.push(`${where}: response ${status} has no body; error responses carry the ErrorResponse schema`);
    for (const [type, content] of media) {
      if (schemaRefName(content['schema']) !== 'ErrorResponse') {
        problems.push(`${where}: response ${status} (${type}) must use $ref '#/components/schemas/ErrorResponse'`);
      }
    }
  }
  return problems;
}

/** A list is a GET whose success body is `{data: [...], next_cursor}`; it must take `cursor` and `limit`. */
function checkPagination(doc: JsonObject, entry: OperationEntry, where: string): string[] {
  if (entry.method !== 'get') return [];
  const isList = responsesOf(doc, entry.operation).some(([status, response]) => {
    if (!/^2/.test(status)) return false;
    return mediaTypesOf(response).some(([, content]) => {
      const properties = propertiesOf(doc, content['schema']);
      return 'data' in properties && 'next_cursor' in properties;
    });
  });
  if (!isList) return [];
  const query = new Set(parametersOf(doc, entry).filter((p) => p.in === 'query').map((p) => p.name));
  const missing = ['cursor', 'limit'].filter((name) => !query.has(name));
  return missing.length === 0 ? [] : [`${where}: a list operation needs query parameter${missing.length > 1 ? 's' : ''} ${missing.join(' and ')} (Cursor, Limit)`];
}

function propertiesOf(doc: JsonObject, schema: unknown, depth = 0): JsonObject {
  const resolved = resolveRef(doc, schema);
  if (!isObject(resolved) || depth > 8) return {};
  const parts = Array.isArray(resolved['allOf']) ? resolved['allOf'] : [];
  const own = isObject(resolved['properties']) ? resolved['properties'] : {};
  return Object.assign({}, ...parts.map((part) => propertiesOf(doc, part, depth + 1)), own) as JsonObject;
}

/** Money is `Money` ({amount_minor, currency}) or an integer named `*_minor`; never a float. */
function checkMoneyFields(doc: JsonObject): string[] {
  const problems: string[] = [];
  const visit = (schema: unknown, where: string): void => {
    if (!isObject(schema) || typeof schema['$ref'] === 'string') return;
    const properties = isObject(schema['properties']) ? schema['properties'] : {};
    for (const [name, property] of Object.entries(properties)) {
      if (moneyName.test(name)) {
        const problem = moneyProblem(name, property);
        if (problem) problems.push(`${where}.${name}: ${problem}`);
      }
      visit(property, `${where}.${name}`);
    }
    for (const key of ['items', 'additionalProperties', 'not']) visit(schema[key], `${where}[${key}]`);
    for (const key of ['allOf', 'anyOf', 'oneOf', 'prefixItems']) {
      const parts = schema[key];
      if (Array.isArray(parts)) parts.forEach((part, i) => visit(part, `${where}.${key}[${i}]`));
    }
  };
  const components = isObject(doc['components']) ? doc['components'] : {};
  for (const [name, schema] of Object.entries(isObject(components['schemas']) ? components['schemas'] : {})) {
    visit(schema, `components.schemas.${name}`);
  }
  for (const entry of listOperations(doc)) {
    const where = describeOperation(entry);
    for (const parameter of parametersOf(doc, entry)) {
      if (moneyName.test(parameter.name)) {
        const problem = moneyProblem(parameter.name, parameter.schema);
        if (problem) problems.push(`${where}: parameter ${parameter.name}: ${problem}`);
      }
    }
    const body = resolveRef(doc, entry.operation['requestBody']);
    if (isObject(body)) for (const [type, content] of mediaTypesOf(body)) visit(content['schema'], `${where} request ${type}`);
    for (const [status, response] of responsesOf(doc, entry.operation)) {
      for (const [type, content] of mediaTypesOf(response)) visit(content['schema'], `${where} response ${status} ${type}`);
    }
  }
  return [...new Set(problems)];
}

function moneyProblem(name: string, schema: unknown): string | undefined {
  if (!isObject(schema) || typeof schema['$ref'] === 'string') return undefined;
  const types = Array.isArray(schema['type']) ? schema['type'] : [schema['type']];
  if (types.includes('number')) return 'money must not be a number (float): use $ref Money or an integer `*_minor` field';
  if (types.includes('integer') && !name.endsWith('_minor')) return 'an integer money field must be named `*_minor` (minor units), or use $ref Money';
  if (types.includes('array')) return moneyProblem(name, schema['items']);
  return undefined;
}

import type { Document } from 'openapi-backend';
import { dereference } from '../../src/contract/dereference.js';
import type { Contract, ContractOperation } from '../../src/contract/load-contract.js';

type Json = Record<string, unknown>;

export interface BuiltRequest {
  readonly method: string;
  /** Path with parameters filled in and the query string appended. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

export const TEST_BEARER = 'Bearer test.access.token';

/**
 * A request the contract accepts, built from the contract itself: examples where the operation has them,
 * otherwise values derived from each schema. Only required parameters are sent; credentials are added in
 * the shape each security scheme asks for (presence is all the adapter checks today).
 */
export function createRequestBuilder(contract: Contract) {
  const definition = dereference(contract.document as Document) as unknown as Json;
  const paths = definition['paths'] as Record<string, Json>;

  return function buildRequest(operation: ContractOperation): BuiltRequest {
    const item = paths[operation.path]!;
    const spec = item[operation.method] as Json;
    const parameters = [...((spec['parameters'] ?? []) as Json[]), ...((item['parameters'] ?? []) as Json[])];
    let path = operation.path;
    const query = new URLSearchParams();
    const headers: Record<string, string> = {};
    for (const parameter of parameters) {
      const name = String(parameter['name']);
      if (parameter['in'] === 'path') path = path.replace(`{${name}}`, encodeURIComponent(String(sampleOf(parameter))));
      else if (parameter['required'] === true && parameter['in'] === 'query') query.set(name, String(sampleOf(parameter)));
      else if (parameter['required'] === true && parameter['in'] === 'header') headers[name.toLowerCase()] = String(sampleOf(parameter));
    }
    const schemes = operation.security.flat();
    if (schemes.includes('userBearer') || schemes.includes('nodeBearer')) headers['authorization'] = TEST_BEARER;
    if (schemes.includes('stripeSignature')) headers['stripe-signature'] = 't=1795780990,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd';
    let body: string | undefined;
    const json = ((spec['requestBody'] as Json | undefined)?.['content'] as Json | undefined)?.['application/json'] as Json | undefined;
    if (json) {
      body = JSON.stringify(exampleOf(json) ?? sample(json['schema']));
      headers['content-type'] = 'application/json';
    }
    const search = query.toString();
    return { method: operation.method.toUpperCase(), url: search ? `${path}?${search}` : path, headers, body };
  };
}

function sampleOf(parameter: Json): unknown {
  return exampleOf(parameter) ?? sample(parameter['schema']);
}

function exampleOf(holder: Json): unknown {
  if (holder['example'] !== undefined) return holder['example'];
  const examples = holder['examples'] as Record<string, Json> | undefined;
  const first = examples ? Object.values(examples)[0] : undefined;
  return first?.['value'];
}

/** A value valid for common schemas: examples, defaults, enums and formats first, then the type's simplest value. */
export function sample(schemaValue: unknown, depth = 0): unknown {
  const schema = (schemaValue ?? {}) as Json;
  if (schema['example'] !== undefined) return schema['example'];
  if (Array.isArray(schema['examples']) && schema['examples'].length > 0) return schema['examples'][0];
  if (schema['const'] !== undefined) return schema['const'];
  if (schema['default'] !== undefined) return schema['default'];
  if (Array.isArray(schema['enum'])) return schema['enum'][0];
  for (const key of ['oneOf', 'anyOf'] as const) if (Array.isArray(schema[key])) return sample(schema[key][0], depth + 1);
  if (Array.isArray(schema['allOf'])) return Object.assign({}, ...schema['allOf'].map((part) => sample(part, depth + 1) as object));
  const type = Array.isArray(schema['type']) ? schema['type'].find((t) => t !== 'null') : schema['type'];
  switch (type) {
    case 'string':
      return sampleString(schema);
    case 'integer':
    case 'number':
      return typeof schema['minimum'] === 'number' ? schema['minimum'] : 1;
    case 'boolean':
      return true;
    case 'array': {
      const count = typeof schema['minItems'] === 'number' ? schema['minItems'] : 1;
      return depth > 8 ? [] : Array.from({ length: count }, () => sample(schema['items'], depth + 1));
    }
    case 'null':
      return null;
    default: {
      const properties = (schema['properties'] ?? {}) as Record<string, unknown>;
      const required = (schema['required'] ?? []) as string[];
      return Object.fromEntries(required.map((name) => [name, depth > 8 ? null : sample(properties[name], depth + 1)]));
    }
  }
}

function sampleString(schema: Json): string {
  switch (schema['format']) {
    case 'uuid':
      return '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e0f';
    case 'date-time':
      return '2026-11-27T12:00:00Z';
    case 'date':
      return '2026-11-27';
    case 'email':
      return 'someone@example.com';
    case 'uri':
    case 'url':
      return 'http://127.0.0.1/';
  }
  const minLength = typeof schema['minLength'] === 'number' ? schema['minLength'] : 1;
  return 'x'.repeat(Math.max(minLength, 1));
}

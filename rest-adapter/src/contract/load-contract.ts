import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Document } from 'openapi-backend';

/** doc/api/openapi.yaml, resolved from this file so it works from any working directory. */
export const defaultOpenApiPath = fileURLToPath(new URL('../../../doc/api/openapi.yaml', import.meta.url));

export const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof httpMethods)[number];

/** What the adapter and the scripts need to know about one operation, read straight from the contract. */
export interface ContractOperation {
  readonly operationId: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly tags: readonly string[];
  /** Security requirement alternatives (OR of ANDs), the operation's own or else the document's. */
  readonly security: ReadonlyArray<readonly string[]>;
  /** Media types the request body accepts; empty when the operation takes no body. */
  readonly requestContentTypes: readonly string[];
  readonly queryParameterNames: readonly string[];
}

export interface Contract {
  /** The parsed document, untouched (served at /openapi.json and /openapi.yaml). */
  readonly document: Document;
  /** The YAML text as read from disk. */
  readonly source: string;
  readonly operations: readonly ContractOperation[];
}

type Json = Record<string, unknown>;

export function loadContract(path: string = defaultOpenApiPath): Contract {
  const source = readFileSync(path, 'utf8');
  const document = parse(source) as Document;
  return { document, source, operations: listOperations(document) };
}

export function listOperations(document: Document): ContractOperation[] {
  const root = document as unknown as Json;
  const paths = (root['paths'] ?? {}) as Record<string, Json>;
  const documentSecurity = (root['security'] ?? []) as Json[];
  const operations: ContractOperation[] = [];
  for (const [path, item] of Object.entries(paths)) {
    const pathParameters = (item['parameters'] ?? []) as Json[];
    for (const method of httpMethods) {
      const operation = item[method] as Json | undefined;
      if (!operation) continue;
      const operationId = operation['operationId'];
      // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
      if (typeof operationId !== 'string') throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      const security = (operation['security'] as Json[] | undefined) ?? documentSecurity;
      const parameters = [...((operation['parameters'] ?? []) as Json[]), ...pathParameters].map((p) => resolveRef(document, p));
      const requestBody = operation['requestBody'] ? resolveRef(document, operation['requestBody'] as Json) : undefined;
      operations.push({
        operationId,
        method,
        path,
        tags: (operation['tags'] as string[] | undefined) ?? [],
        security: security.map((requirement) => Object.keys(requirement)),
        requestContentTypes: Object.keys((requestBody?.['content'] ?? {}) as Json),
        queryParameterNames: parameters.filter((p) => p['in'] === 'query').map((p) => String(p['name'])),
      });
    }
  }
  return operations;
}

/** Follows a local `#/...` reference (parameters and request bodies may be shared components). */
export function resolveRef(document: Document, value: Json): Json {
  let current = value;
  for (let hops = 0; typeof current['$ref'] === 'string'; hops++) {
    // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
    if (hops > 16) throw new Error(`reference cycle at ${String(current['$ref'])}`);
    const pointer = String(current['$ref']);
    // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
    if (!pointer.startsWith('#/')) throw new Error(`only local references are supported: ${pointer}`);
    let target: unknown = document;
    for (const segment of pointer.slice(2).split('/')) {
      target = (target as Json | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    // ci-allow canonical_error_guard: start-up only (contract or registry set-up), never reaches a client
    if (typeof target !== 'object' || target === null) throw new Error(`unresolved reference ${pointer}`);
    current = target as Json;
  }
  return current;
}

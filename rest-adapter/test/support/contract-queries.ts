import type { Document } from 'openapi-backend';
import { dereference } from '../../src/contract/dereference.js';
import type { Contract, ContractOperation } from '../../src/contract/load-contract.js';
import { defaultOperationRegistry } from '../../src/operations/registry.js';

type Json = Record<string, unknown>;

export interface OperationSpec {
  readonly operation: ContractOperation;
  readonly parameters: Json[];
  readonly bodySchema: Json | undefined;
}

/**
 * Finds operations by shape rather than by name, so tests about validation keep working as the contract
 * grows: "a POST whose body requires a string field", "a GET with a uuid path parameter"…
 */
export function contractQueries(contract: Contract) {
  const definition = dereference(contract.document as Document) as unknown as { paths: Record<string, Json> };
  const specs: OperationSpec[] = contract.operations.map((operation) => {
    const item = definition.paths[operation.path]!;
    const spec = item[operation.method] as Json;
    const parameters = [...((spec['parameters'] ?? []) as Json[]), ...((item['parameters'] ?? []) as Json[])];
    const content = ((spec['requestBody'] as Json | undefined)?.['content'] ?? {}) as Record<string, Json>;
    return { operation, parameters, bodySchema: content['application/json']?.['schema'] as Json | undefined };
  });

  return {
    find(description: string, predicate: (spec: OperationSpec) => boolean): OperationSpec {
      const found = specs.find(predicate);
      if (!found) throw new Error(`the contract has no operation that is ${description}`);
      return found;
    },
  };
}

export function requiresBearer(spec: OperationSpec): boolean {
  return spec.operation.security.flat().some((scheme) => scheme === 'userBearer' || scheme === 'nodeBearer');
}

export function requiredStringProperty(schema: Json | undefined): string | undefined {
  const properties = (schema?.['properties'] ?? {}) as Record<string, Json>;
  return ((schema?.['required'] ?? []) as string[]).find((name) => {
    const property = properties[name];
    return property?.['type'] === 'string' && property['enum'] === undefined;
  });
}

export function takesIdempotencyKey(spec: OperationSpec): boolean {
  return spec.parameters.some((p) => p['in'] === 'header' && String(p['name']).toLowerCase() === 'x-idempotency-key');
}

const served = defaultOperationRegistry();

/** True when the adapter ships no handler for the operation yet, so a request that passes the edge answers 501. */
export function unserved(spec: OperationSpec): boolean {
  return !served.has(spec.operation.operationId);
}

import { validate } from 'graphql';
import { isGraphqlHandler } from '../operations/graphql-operation.js';
import type { OperationRegistry } from '../operations/registry.js';
import { supergraphSchema } from './schema.js';

/**
 * Every GraphQL document a handler sends must be valid against the supergraph the gateway serves; checked at
 * start-up so that a renamed field stops the adapter from starting instead of failing one request at a time.
 */
export function assertDocumentsMatchSchema(registry: OperationRegistry): void {
  const schema = supergraphSchema();
  const problems: string[] = [];
  for (const operationId of registry.operationIds()) {
    const handler = registry.get(operationId);
    if (!isGraphqlHandler(handler)) continue;
    for (const error of validate(schema, handler.document.ast)) problems.push(`${operationId} (${handler.document.name}): ${error.message}`);
  }
  if (problems.length > 0) throw new TypeError(`GraphQL documents do not match the supergraph:\n  - ${problems.join('\n  - ')}`);
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { apiSchemaSdl, DEFAULT_MAX_QUERY_COST, loadSupergraphSdl, operationCost } from '../src/index.js';

/** The REST adapter's operation documents (`.graphql` beside its handlers) and their shared fragments. */
const operationsRoot = fileURLToPath(new URL('../../rest-adapter/src/operations', import.meta.url));
/** The contract's largest page (`limit`, doc/api/openapi/common.yaml): the adapter passes it on as `first`. */
const LARGEST_PAGE = 200;

function graphqlFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return graphqlFiles(path);
    return entry.name.endsWith('.graphql') ? [path] : [];
  });
}

describe('the default cost limit', () => {
  it('admits every operation the REST adapter sends, at the contract’s largest page', () => {
    const schema = buildSchema(apiSchemaSdl(loadSupergraphSdl()));
    const files = graphqlFiles(operationsRoot);
    const fragments = files.filter((file) => file.includes('/fragments/')).map((file) => readFileSync(file, 'utf8')).join('\n');
    const operations = files.filter((file) => !file.includes('/fragments/'));
    expect(operations.length).toBeGreaterThan(0);
    const tooCostly: string[] = [];
    for (const file of operations) {
      const source = readFileSync(file, 'utf8');
      const document = parse(`${source}\n${fragments}`);
      // A handler that caps the page it asks for says so in its document (`# max-first: N`).
      const cap = /#\s*max-first:\s*(\d+)/.exec(source);
      const first = Math.min(LARGEST_PAGE, cap ? Number(cap[1]) : LARGEST_PAGE);
      const operation = document.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
      const cost = operationCost(schema, document, operation, { first, last: first });
      if (cost > DEFAULT_MAX_QUERY_COST) tooCostly.push(`${file.slice(operationsRoot.length + 1)} costs ${cost}`);
    }
    expect(tooCostly).toEqual([]);
  });
});

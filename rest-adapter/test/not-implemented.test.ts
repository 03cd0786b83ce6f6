import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContract } from '../src/contract/load-contract.js';
import { defaultOperationRegistry } from '../src/operations/registry.js';
import { contractValidator } from '../src/testing/contract-validator.js';
import { startTestAdapter, type TestAdapter } from './support/adapter.js';
import { createRequestBuilder } from './support/request-builder.js';

const contract = loadContract();
const buildRequest = createRequestBuilder(contract);
const served = defaultOperationRegistry();
const unservedOperations = contract.operations.filter((operation) => !served.has(operation.operationId));
let server: TestAdapter;

beforeAll(async () => {
  server = await startTestAdapter();
});
afterAll(async () => {
  await server?.close();
});

describe('every contract operation without a handler', () => {
  it('is routed: the contract has operations and the adapter loaded all of them', () => {
    expect(contract.operations.length).toBeGreaterThan(0);
    expect(server.adapter.contract.operations.map((o) => o.operationId)).toEqual(contract.operations.map((o) => o.operationId));
  });

  it('leaves some operations unserved (otherwise this file has nothing left to check)', () => {
    expect(unservedOperations.length).toBeGreaterThan(0);
  });

  it.each(unservedOperations.map((operation) => [operation.operationId, operation] as const))(
    '%s answers 501 not_implemented in the contract error envelope',
    async (operationId, operation) => {
      const request = buildRequest(operation);
      const answer = await server.send(request.method, request.url, {
        headers: { ...request.headers, 'x-correlation-id': `not-implemented-${operationId}` },
        ...(request.body !== undefined ? { body: request.body } : {}),
      });

      expect(answer.status, `${request.method} ${request.url} answered ${answer.text}`).toBe(501);
      expect(answer.json).toEqual({
        code: 'not_implemented',
        message: `${operationId} is in the contract but not served yet`,
        correlation_id: `not-implemented-${operationId}`,
        details: { operation_id: operationId },
      });
      expect(answer.headers.get('x-correlation-id')).toBe(`not-implemented-${operationId}`);
      contractValidator().assertResponseMatchesContract(operationId, 501, answer.json);
    },
  );
});

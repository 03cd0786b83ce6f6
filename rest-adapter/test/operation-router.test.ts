import { describe, expect, it } from 'vitest';
import { loadContract } from '../src/contract/load-contract.js';
import { buildOpenApiBackend } from '../src/contract/openapi-backend.js';
import { createOperationRouter } from '../src/http/operation-router.js';

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

describe('the precompiled operation router', () => {
  it('answers every method on every contract path exactly as openapi-backend routes it', async () => {
    const api = await buildOpenApiBackend(loadContract().document);
    const operations = api.router.getOperations();
    const router = createOperationRouter(operations);
    const concrete = operations.flatMap(({ path }) => {
      const filled = path.replace(/\{[^}]*\}/g, '0193-a%20b');
      return [filled, `${filled}/`, `/${filled}`, `${filled}/extra`, path];
    });
    const paths = [...new Set([...concrete, '/', '/api', '/api/v1/nope', '/internal/v1/'])];

    let compared = 0;
    for (const path of paths) {
      for (const method of methods) {
        const expected = openApiBackendRoute(() => api.router.matchOperation({ method, path, headers: {} }, true));
        const match = router.match(method.toUpperCase(), path);
        const actual = match.kind === 'found' ? match.operation.operationId : match.kind;
        expect({ method, path, route: actual }).toEqual({ method, path, route: expected });
        if (match.kind === 'found') expect(match.params).toEqual(api.router.parseRequest({ method, path, headers: {} }, match.operation).params);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(operations.length * methods.length);
  });
});

function openApiBackendRoute(route: () => { operationId?: string }): string | undefined {
  try {
    return route().operationId;
  } catch (error) {
    return (error as Error).message.startsWith('405') ? 'method_not_allowed' : 'not_found';
  }
}

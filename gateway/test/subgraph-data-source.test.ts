import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import { describe, expect, it } from 'vitest';
import { GATEWAY_SECRET_HEADER } from '@gpuaas/service-kit';
import { SubgraphDataSource } from '../src/index.js';

describe('SubgraphDataSource', () => {
  it('forwards the correlation id and the gateway secret on every subgraph request', () => {
    const source = new SubgraphDataSource('http://access.test/graphql', 'secret-under-test-0123');
    const headers = new Headers();
    source.willSendRequest({
      kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
      request: { query: '{ me { id } }', http: { method: 'POST', url: 'http://access.test/graphql', headers } },
      context: { correlationId: 'corr-forwarded' },
      incomingRequestContext: {} as never,
    });
    expect(headers.get('x-correlation-id')).toBe('corr-forwarded');
    expect(headers.get(GATEWAY_SECRET_HEADER)).toBe('secret-under-test-0123');
    expect(source.url).toBe('http://access.test/graphql');
  });
});

import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import { describe, expect, it } from 'vitest';
import { GATEWAY_IDENTITY_HEADER, verifyIdentity, type AuthenticatedIdentity } from '@gpuaas/auth';
import { SubgraphDataSource, type GatewayContext } from '../src/index.js';

const secret = 'data-source-identity-secret-0123456789ab';
const identity: AuthenticatedIdentity = {
  userId: '01936f5e-8c4a-7b3e-9d21-5a6b7c8d9e0f',
  role: 'user',
  sessionId: '01936f5e-9a10-7c3e-8d21-5a6b7c8d9e10',
  tokenVersion: 1,
  correlationId: 'corr-forwarded',
  ip: '192.0.2.10',
};

async function send(source: SubgraphDataSource, context: Partial<GatewayContext>): Promise<Headers> {
  const headers = new Headers();
  await source.willSendRequest({
    kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
    request: { query: '{ me { id } }', http: { method: 'POST', url: 'http://access.test/graphql', headers } },
    context: context as GatewayContext,
    incomingRequestContext: {} as never,
  });
  return headers;
}

describe('SubgraphDataSource', () => {
  it('forwards the correlation id and a signed identity of the caller on every subgraph request', async () => {
    const source = new SubgraphDataSource('http://access.test/graphql', secret);
    const headers = await send(source, { correlationId: 'corr-forwarded', identity });
    expect(headers.get('x-correlation-id')).toBe('corr-forwarded');
    await expect(verifyIdentity(headers.get(GATEWAY_IDENTITY_HEADER) ?? '', { secret })).resolves.toEqual(identity);
    expect(source.url).toBe('http://access.test/graphql');
  });

  it('sends requests without a caller (health checks) as an anonymous gateway call', async () => {
    const headers = await send(new SubgraphDataSource('http://access.test/graphql', secret), {});
    const forwarded = await verifyIdentity(headers.get(GATEWAY_IDENTITY_HEADER) ?? '', { secret });
    expect(forwarded).toMatchObject({ userId: null, correlationId: headers.get('x-correlation-id') });
  });

  it('refuses an identity secret shorter than 32 bytes', () => {
    expect(() => new SubgraphDataSource('http://access.test/graphql', 'short')).toThrow(/at least 32 bytes/);
  });
});

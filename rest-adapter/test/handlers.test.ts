import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { loadContract } from '../src/contract/load-contract.js';
import { createOperationRegistry, type OperationContext, type OperationId } from '../src/operations/registry.js';
import { contractValidator } from '../src/testing/contract-validator.js';
import { startTestAdapter, type TestAdapter } from './support/adapter.js';
import { contractQueries, requiresBearer } from './support/contract-queries.js';
import { createRequestBuilder, TEST_BEARER } from './support/request-builder.js';

const contract = loadContract();
const buildRequest = createRequestBuilder(contract);
const queries = contractQueries(contract);

const webhook = queries.find('signed by Stripe', (s) => s.operation.security.flat().includes('stripeSignature')).operation;
const listingSpec = queries.find('a GET with a defaulted limit, behind a bearer', (s) =>
  s.operation.method === 'get' && requiresBearer(s) && s.parameters.some((p) => p['name'] === 'limit' && (p['schema'] as { default?: unknown }).default !== undefined),
);
const listing = listingSpec.operation;
const limitDefault = (listingSpec.parameters.find((p) => p['name'] === 'limit')!['schema'] as { default: number }).default;
const [conflicting, failing, emptyAnswer] = contract.operations.filter(
  (o) => o.operationId !== webhook.operationId && o.operationId !== listing.operationId && o.method === 'get' && o.security.flat().includes('userBearer'),
);

let server: TestAdapter;
let seen: OperationContext | undefined;

beforeAll(async () => {
  const registry = createOperationRegistry()
    .register(webhook.operationId as OperationId, async (ctx) => ({
      status: 200,
      body: { received: true },
      headers: {
        'x-raw-body-length': String(ctx.rawBody?.length ?? -1),
        'x-raw-body-sha256': ctx.rawBody ? createHash('sha256').update(ctx.rawBody).digest('hex') : 'none',
      },
    }))
    .register(listing.operationId as OperationId, async (ctx) => {
      seen = ctx;
      return { status: 200, body: { data: [], next_cursor: null } };
    })
    .register(conflicting!.operationId as OperationId, async () => {
      throw new AppError('conflict', 'The object changed meanwhile');
    })
    .register(failing!.operationId as OperationId, async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
    })
    .register(emptyAnswer!.operationId as OperationId, async () => ({ status: 204 }));
  server = await startTestAdapter({ registry });
});
afterAll(async () => {
  await server?.close();
});

describe('the Stripe webhook route', () => {
  it('hands the handler the exact bytes Stripe sent', async () => {
    const request = buildRequest(webhook);
    // Spacing, key order and a non-ASCII character all change if the body were parsed and re-serialised.
    const sent = `{ "id":"evt_1", "object" : "event",\n  "type": "checkout.session.completed", "created": 1795780990, "note": "café ☕",\n  "data": {"object": {"id": "cs_1"}}, "livemode": false }`;
    const answer = await server.send('POST', request.url, { headers: request.headers, body: sent });

    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('x-raw-body-length')).toBe(String(Buffer.byteLength(sent)));
    expect(answer.headers.get('x-raw-body-sha256')).toBe(createHash('sha256').update(sent).digest('hex'));
    expect(Buffer.byteLength(JSON.stringify(JSON.parse(sent)))).not.toBe(Buffer.byteLength(sent));
    contractValidator().assertResponseMatchesContract(webhook.operationId, 200, answer.json);
  });

  it('still validates the webhook body against the contract', async () => {
    const request = buildRequest(webhook);
    const answer = await server.send('POST', request.url, { headers: request.headers, body: '{"id": 42}' });

    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: 'validation_error' });
  });

  it('answers 400 for malformed JSON on the raw route', async () => {
    const request = buildRequest(webhook);
    const answer = await server.send('POST', request.url, { headers: request.headers, body: '{"id": ' });

    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: 'validation_error', details: { fields: [{ field: 'body', message: 'malformed JSON' }] } });
  });
});

describe('a registered handler', () => {
  it('gets the coerced query with contract defaults, the bearer token and the correlation id', async () => {
    seen = undefined;
    const request = buildRequest(listing);
    const answer = await server.send('GET', request.url, { headers: { ...request.headers, 'x-correlation-id': 'handler-context-1' } });

    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toEqual({ data: [], next_cursor: null });
    expect(seen).toMatchObject({
      operationId: listing.operationId,
      method: 'GET',
      bearerToken: TEST_BEARER.slice('Bearer '.length),
      correlationId: 'handler-context-1',
      rawBody: undefined,
    });
    expect(new URL(request.url, 'http://placeholder').searchParams.has('limit')).toBe(false);
    expect(seen!.query['limit']).toBe(limitDefault);
  });

  it('gets a numeric limit when the caller sends one', async () => {
    seen = undefined;
    const url = new URL(buildRequest(listing).url, 'http://placeholder');
    url.searchParams.set('limit', '7');
    await server.send('GET', `${url.pathname}${url.search}`, { headers: { authorization: TEST_BEARER } });

    expect(seen!.query['limit']).toBe(7);
  });

  it('answers a thrown catalog error in the error envelope with its status', async () => {
    const request = buildRequest(conflicting!);
    const answer = await server.send('GET', request.url, { headers: request.headers });

    expect(answer.status).toBe(409);
    expect(answer.json).toEqual({ code: 'conflict', message: 'The object changed meanwhile', correlation_id: answer.headers.get('x-correlation-id') });
  });

  it('answers anything else thrown as a bare 500 internal_error that leaks nothing', async () => {
    const request = buildRequest(failing!);
    const answer = await server.send('GET', request.url, { headers: request.headers });

    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ code: 'internal_error', message: 'An unexpected error occurred', correlation_id: answer.headers.get('x-correlation-id') });
    expect(answer.text).not.toMatch(/ECONNREFUSED|hunter2|stack/);
    contractValidator().assertResponseMatchesContract(failing!.operationId, 500, answer.json);
  });

  it('may answer without a body', async () => {
    const request = buildRequest(emptyAnswer!);
    const answer = await server.send('GET', request.url, { headers: request.headers });

    expect(answer.status).toBe(204);
    expect(answer.text).toBe('');
  });
});

describe('registering handlers', () => {
  it('refuses to start with a handler for an operation the contract does not define', async () => {
    // the cast stands for a contract that lost an operation after the handler was written
    const registry = createOperationRegistry({ ['notInTheContract' as OperationId]: async () => ({ status: 200 }) });

    await expect(startTestAdapter({ registry })).rejects.toThrow(/notInTheContract/);
  });

  it('refuses a second handler for the same operation', () => {
    const operationId = webhook.operationId as OperationId;
    const registry = createOperationRegistry().register(operationId, async () => ({ status: 200 }));

    expect(() => registry.register(operationId, async () => ({ status: 200 }))).toThrow(/already registered/);
  });
});

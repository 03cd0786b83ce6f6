import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContract } from '../src/contract/load-contract.js';
import { contractValidator } from '../src/testing/contract-validator.js';
import { fieldsOf, startTestAdapter, type Answer, type TestAdapter } from './support/adapter.js';
import { contractQueries, requiredStringProperty, requiresBearer, takesIdempotencyKey, unserved } from './support/contract-queries.js';
import { createRequestBuilder, TEST_BEARER } from './support/request-builder.js';

const contract = loadContract();
const buildRequest = createRequestBuilder(contract);
const queries = contractQueries(contract);
let server: TestAdapter;

beforeAll(async () => {
  server = await startTestAdapter({ config: { bodyLimit: '64kb' } });
});
afterAll(async () => {
  await server?.close();
});

const bodyOperation = queries.find('a POST with a required JSON body requiring a string field, behind a bearer', (spec) =>
  spec.operation.method === 'post' && requiresBearer(spec) && requiredStringProperty(spec.bodySchema) !== undefined,
);
const requiredField = requiredStringProperty(bodyOperation.bodySchema)!;
const validBody = () => JSON.parse(buildRequest(bodyOperation.operation).body!) as Record<string, unknown>;
const bodyUrl = buildRequest(bodyOperation.operation).url;
const jsonHeaders = { authorization: TEST_BEARER, 'content-type': 'application/json' };

function expectValidationError(answer: Answer, operationId: string): void {
  expect(answer.status, answer.text).toBe(400);
  expect(answer.json).toMatchObject({ code: 'validation_error', correlation_id: answer.headers.get('x-correlation-id') });
  expect(JSON.stringify(answer.json)).not.toMatch(/schemaPath|instancePath|#\/|keyword/);
  contractValidator().assertResponseMatchesContract(operationId, 400, answer.json);
}

describe('request validation against the contract', () => {
  it('names a missing required body field', async () => {
    const body = validBody();
    delete body[requiredField];
    const answer = await server.send('POST', bodyUrl, { headers: jsonHeaders, body: JSON.stringify(body) });

    expectValidationError(answer, bodyOperation.operation.operationId);
    expect(fieldsOf(answer)).toContainEqual({ field: `body.${requiredField}`, message: 'is required' });
  });

  it('names a body field of the wrong type', async () => {
    const answer = await server.send('POST', bodyUrl, { headers: jsonHeaders, body: JSON.stringify({ ...validBody(), [requiredField]: 12345 }) });

    expectValidationError(answer, bodyOperation.operation.operationId);
    expect(fieldsOf(answer)).toContainEqual({ field: `body.${requiredField}`, message: 'must be string' });
  });

  it('reports every problem of a request at once', async () => {
    const spec = queries.find('a POST taking X-Idempotency-Key whose body requires a string field, behind a bearer', (s) =>
      s.operation.method === 'post' && requiresBearer(s) && requiredStringProperty(s.bodySchema) !== undefined && takesIdempotencyKey(s),
    );
    const field = requiredStringProperty(spec.bodySchema)!;
    const request = buildRequest(spec.operation);
    const body = JSON.parse(request.body!) as Record<string, unknown>;
    delete body[field];
    const answer = await server.send('POST', request.url, {
      headers: { ...request.headers, 'x-idempotency-key': 'short' },
      body: JSON.stringify(body),
    });

    expectValidationError(answer, spec.operation.operationId);
    expect(fieldsOf(answer).map((issue) => issue.field)).toEqual(expect.arrayContaining([`body.${field}`, 'header.x-idempotency-key']));
  });

  it('requires the body when the contract does', async () => {
    const answer = await server.send('POST', bodyUrl, { headers: { authorization: TEST_BEARER } });

    expectValidationError(answer, bodyOperation.operation.operationId);
    expect(fieldsOf(answer)).toContainEqual({ field: 'body', message: 'is required' });
  });

  it('refuses a path id that is not a uuid', async () => {
    const spec = queries.find('a GET with a uuid path parameter, behind a bearer', (s) =>
      s.operation.method === 'get' && requiresBearer(s) && s.parameters.some((p) => p['in'] === 'path' && (p['schema'] as { format?: string }).format === 'uuid'),
    );
    const parameter = spec.parameters.find((p) => p['in'] === 'path' && (p['schema'] as { format?: string }).format === 'uuid')!;
    const url = buildRequest(spec.operation).url.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, 'not-a-uuid');
    const answer = await server.send('GET', url, { headers: { authorization: TEST_BEARER } });

    expectValidationError(answer, spec.operation.operationId);
    expect(fieldsOf(answer)).toContainEqual({ field: `path.${String(parameter['name'])}`, message: 'must be a valid uuid' });
  });

  describe('a limit query parameter', () => {
    const spec = queries.find('a GET taking a bounded limit, behind a bearer, not served yet', (s) =>
      s.operation.method === 'get' && requiresBearer(s) && unserved(s) && s.parameters.some((p) => p['name'] === 'limit' && typeof (p['schema'] as { maximum?: number }).maximum === 'number'),
    );
    const limit = spec.parameters.find((p) => p['name'] === 'limit')!['schema'] as { minimum: number; maximum: number };
    const urlWith = (value: string) => {
      const url = new URL(buildRequest(spec.operation).url, 'http://placeholder');
      url.searchParams.set('limit', value);
      return `${url.pathname}${url.search}`;
    };

    it('is refused above its maximum', async () => {
      const answer = await server.send('GET', urlWith(String(limit.maximum + 1)), { headers: { authorization: TEST_BEARER } });
      expectValidationError(answer, spec.operation.operationId);
      expect(fieldsOf(answer)).toContainEqual({ field: 'query.limit', message: `must be <= ${limit.maximum}` });
    });

    it('is refused below its minimum', async () => {
      const answer = await server.send('GET', urlWith(String(limit.minimum - 1)), { headers: { authorization: TEST_BEARER } });
      expectValidationError(answer, spec.operation.operationId);
      expect(fieldsOf(answer)).toContainEqual({ field: 'query.limit', message: `must be >= ${limit.minimum}` });
    });

    it('is refused when it is not a number', async () => {
      const answer = await server.send('GET', urlWith('ten'), { headers: { authorization: TEST_BEARER } });
      expectValidationError(answer, spec.operation.operationId);
      expect(fieldsOf(answer)).toContainEqual({ field: 'query.limit', message: 'must be integer' });
    });

    it('is accepted at its maximum (the request then reaches the operation)', async () => {
      const answer = await server.send('GET', urlWith(String(limit.maximum)), { headers: { authorization: TEST_BEARER } });
      expect(answer.status, answer.text).toBe(501);
    });

    it('refuses query parameters the operation does not declare', async () => {
      const answer = await server.send('GET', `${urlWith('1')}&colour=blue`, { headers: { authorization: TEST_BEARER } });
      expectValidationError(answer, spec.operation.operationId);
      expect(fieldsOf(answer)).toContainEqual({ field: 'query.colour', message: 'is not a parameter of this operation' });
    });
  });

  it('refuses a malformed X-Idempotency-Key header', async () => {
    const spec = queries.find('a POST taking X-Idempotency-Key, behind a bearer', (s) => s.operation.method === 'post' && requiresBearer(s) && takesIdempotencyKey(s));
    const request = buildRequest(spec.operation);
    const answer = await server.send('POST', request.url, {
      headers: { ...request.headers, 'x-idempotency-key': 'has spaces and !' },
      ...(request.body !== undefined ? { body: request.body } : {}),
    });

    expectValidationError(answer, spec.operation.operationId);
    expect(fieldsOf(answer).map((issue) => issue.field)).toContain('header.x-idempotency-key');
  });
});

describe('request bodies the adapter cannot read', () => {
  it('answers 400 validation_error for malformed JSON', async () => {
    const answer = await server.send('POST', bodyUrl, { headers: jsonHeaders, body: '{"email": "a@b.c",' });

    expectValidationError(answer, bodyOperation.operation.operationId);
    expect(fieldsOf(answer)).toEqual([{ field: 'body', message: 'malformed JSON' }]);
  });

  it('answers 415 for a content type the operation does not accept', async () => {
    const answer = await server.send('POST', bodyUrl, { headers: { authorization: TEST_BEARER, 'content-type': 'text/plain' }, body: 'hello' });

    expect(answer.status, answer.text).toBe(415);
    expect(answer.json).toMatchObject({ code: 'unsupported_media_type', details: { accepted_content_types: ['application/json'] } });
    contractValidator().assertResponseMatchesContract(bodyOperation.operation.operationId, 415, answer.json);
  });

  it('answers 413 for a body over the configured limit', async () => {
    const answer = await server.send('POST', bodyUrl, { headers: jsonHeaders, body: JSON.stringify({ padding: 'x'.repeat(70 * 1024) }) });

    expect(answer.status, answer.text).toBe(413);
    expect(answer.json).toMatchObject({ code: 'payload_too_large' });
    contractValidator().assertErrorEnvelope(answer.json);
  });
});

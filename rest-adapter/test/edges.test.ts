import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadContract } from '../src/contract/load-contract.js';
import { contractValidator } from '../src/testing/contract-validator.js';
import { fieldsOf, startTestAdapter, type TestAdapter } from './support/adapter.js';
import { contractQueries, requiresBearer, unserved } from './support/contract-queries.js';
import { createRequestBuilder, TEST_BEARER } from './support/request-builder.js';

const contract = loadContract();
const buildRequest = createRequestBuilder(contract);
const queries = contractQueries(contract);
let server: TestAdapter;

beforeAll(async () => {
  server = await startTestAdapter();
});
afterAll(async () => {
  await server?.close();
});

const protectedGet = queries.find('a GET behind a user bearer, not served yet', (s) => s.operation.method === 'get' && s.operation.security.flat().includes('userBearer') && unserved(s));
const publicOperation = queries.find('an operation anyone may call', (s) => s.operation.security.length === 0);

describe('routing', () => {
  it('answers 404 not_found for a path the contract does not have', async () => {
    const answer = await server.send('GET', '/api/v1/no-such-thing', { headers: { authorization: TEST_BEARER } });

    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ code: 'not_found', message: 'No route for GET /api/v1/no-such-thing' });
    contractValidator().assertErrorEnvelope(answer.json);
  });

  it('answers 404 not_found outside the API paths too', async () => {
    const answer = await server.send('GET', '/nowhere');

    expect(answer.status).toBe(404);
    contractValidator().assertErrorEnvelope(answer.json);
  });

  it('answers 405 method_not_allowed with an Allow header for a known path and a wrong method', async () => {
    const methods = (path: string) => contract.operations.filter((o) => o.path === path).map((o) => o.method.toUpperCase()).sort();
    const spec = queries.find('a path without DELETE or a path parameter', (s) => !s.operation.path.includes('{') && !methods(s.operation.path).includes('DELETE'));
    const answer = await server.send('DELETE', spec.operation.path, { headers: { authorization: TEST_BEARER } });

    expect(answer.status, answer.text).toBe(405);
    expect(answer.headers.get('allow')).toBe(methods(spec.operation.path).join(', '));
    expect(answer.json).toMatchObject({ code: 'method_not_allowed', details: { allowed_methods: methods(spec.operation.path) } });
    contractValidator().assertErrorEnvelope(answer.json);
  });

  it('routes a path with a trailing slash like the path without one', async () => {
    const request = buildRequest(protectedGet.operation);
    const [path, search] = request.url.split('?');
    const answer = await server.send('GET', `${path}/${search ? `?${search}` : ''}`, { headers: request.headers });

    expect(answer.status, answer.text).toBe(501);
  });
});

describe('credentials at the edge', () => {
  it('answers 401 unauthenticated when a bearer-protected operation gets no Authorization header', async () => {
    const request = buildRequest(protectedGet.operation);
    const { authorization: _dropped, ...headers } = request.headers;
    const answer = await server.send('GET', request.url, { headers });

    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: 'unauthenticated' });
    contractValidator().assertResponseMatchesContract(protectedGet.operation.operationId, 401, answer.json);
  });

  it.each([['Basic dXNlcjpwYXNz'], ['Bearer'], ['Bearer two words'], ['token abc']])('answers 401 for a malformed Authorization header "%s"', async (authorization) => {
    const request = buildRequest(protectedGet.operation);
    const answer = await server.send('GET', request.url, { headers: { ...request.headers, authorization } });

    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: 'unauthenticated' });
  });

  it('lets an operation anyone may call through to its handler without a credential', async () => {
    const request = buildRequest(publicOperation.operation);
    expect(request.headers['authorization']).toBeUndefined();
    const answer = await server.send(request.method, request.url, { headers: request.headers, ...(request.body !== undefined ? { body: request.body } : {}) });

    // The handler ran and found no gateway at the test's dead address; the edge would have answered 401.
    expect(answer.status, answer.text).toBe(503);
    expect(answer.json).toMatchObject({ code: 'service_unavailable' });
    contractValidator().assertResponseMatchesContract(publicOperation.operation.operationId, 503, answer.json);
  });

  it('answers 401 for a node-agent operation called without its node credential', async () => {
    const spec = queries.find('an operation behind a node bearer', (s) => s.operation.security.flat().includes('nodeBearer'));
    const request = buildRequest(spec.operation);
    const { authorization: _dropped, ...headers } = request.headers;
    const answer = await server.send(request.method, request.url, { headers, ...(request.body !== undefined ? { body: request.body } : {}) });

    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: 'unauthenticated' });
  });

  it('answers 400 webhook_signature_invalid when the Stripe webhook has no Stripe-Signature header', async () => {
    const spec = queries.find('an operation signed by Stripe', (s) => s.operation.security.flat().includes('stripeSignature'));
    const request = buildRequest(spec.operation);
    const { 'stripe-signature': _dropped, ...headers } = request.headers;
    const answer = await server.send('POST', request.url, { headers, body: request.body! });

    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: 'webhook_signature_invalid' });
    contractValidator().assertResponseMatchesContract(spec.operation.operationId, 400, answer.json);
  });

  it.each([['access_token'], ['token']])('refuses a credential in the query string (%s), even beside a valid header', async (name) => {
    const request = buildRequest(protectedGet.operation);
    const separator = request.url.includes('?') ? '&' : '?';
    const answer = await server.send('GET', `${request.url}${separator}${name}=eyJhbGciOi.x.y`, { headers: request.headers });

    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: 'validation_error' });
    expect(fieldsOf(answer)).toEqual([{ field: `query.${name}`, message: 'credentials must not be sent in a query string' }]);
    contractValidator().assertResponseMatchesContract(protectedGet.operation.operationId, 400, answer.json);
  });

  it('refuses a credential in the query string of a public operation as well', async () => {
    const request = buildRequest(publicOperation.operation);
    const separator = request.url.includes('?') ? '&' : '?';
    const answer = await server.send(request.method, `${request.url}${separator}access_token=abc`, {
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    });

    expect(answer.status).toBe(400);
    expect(fieldsOf(answer)).toEqual([{ field: 'query.access_token', message: 'credentials must not be sent in a query string' }]);
  });
});

describe('correlation ids', () => {
  it('echoes a caller-supplied X-Correlation-Id in the header and the error body', async () => {
    const answer = await server.send('GET', '/api/v1/no-such-thing', { headers: { 'x-correlation-id': 'caller-chosen-id.42' } });

    expect(answer.headers.get('x-correlation-id')).toBe('caller-chosen-id.42');
    expect(answer.json).toMatchObject({ correlation_id: 'caller-chosen-id.42' });
  });

  it('generates one when none is supplied, and a different one per request', async () => {
    const first = await server.send('GET', '/api/v1/no-such-thing');
    const second = await server.send('GET', '/api/v1/no-such-thing');

    const id = first.headers.get('x-correlation-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.json).toMatchObject({ correlation_id: id });
    expect(second.headers.get('x-correlation-id')).not.toBe(id);
  });

  it('replaces a supplied id that is unsafe to log', async () => {
    const answer = await server.send('GET', '/api/v1/no-such-thing', { headers: { 'x-correlation-id': 'evil\tid with spaces' } });

    expect(answer.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is set on successful answers too', async () => {
    const answer = await server.send('GET', '/healthz', { headers: { 'x-correlation-id': 'health-check-1' } });

    expect(answer.headers.get('x-correlation-id')).toBe('health-check-1');
  });
});

describe('service endpoints', () => {
  it('serves /healthz and /readyz', async () => {
    const health = await server.send('GET', '/healthz');
    const ready = await server.send('GET', '/readyz');

    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'ok', service: 'rest-adapter' });
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready', service: 'rest-adapter' });
  });

  it('serves the bundled contract as YAML and as JSON', async () => {
    const yaml = await server.send('GET', '/openapi.yaml');
    const json = await server.send('GET', '/openapi.json');

    expect(yaml.status).toBe(200);
    expect(yaml.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(yaml.text).toBe(server.adapter.contract.source);
    expect(json.status).toBe(200);
    expect(json.json).toEqual(parse(server.adapter.contract.source));
    expect(json.json).toMatchObject({ openapi: expect.stringMatching(/^3\.1\./), paths: expect.any(Object) });
  });

  it('serves an API explorer at /docs that loads only from this server', async () => {
    const page = await server.send('GET', '/docs');

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const references = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) {
      expect(reference.startsWith('/')).toBe(true);
      const asset = await server.send('GET', reference);
      expect(asset.status, reference).toBe(200);
      expect(asset.text.length, reference).toBeGreaterThan(0);
    }
    const init = await server.send('GET', '/docs/init.js');
    expect(init.text).toContain("url: '/openapi.json'");
    expect(init.text).toContain('validatorUrl: null');
  });

  it('does not serve the sample pages that ship with the explorer package', async () => {
    const answer = await server.send('GET', '/docs/assets/swagger-initializer.js');

    expect(answer.status).toBe(404);
  });
});

describe('errors', () => {
  it('never returns a stack or an internal error text', async () => {
    const request = buildRequest(protectedGet.operation);
    const answers = await Promise.all([
      server.send('GET', '/api/v1/no-such-thing'),
      server.send('GET', request.url),
      server.send('POST', '/api/v1/no-such-thing', { headers: { 'content-type': 'application/json' }, body: '{' }),
    ]);
    for (const answer of answers) expect(answer.text).not.toMatch(/\bat .+\.(ts|js):\d+|stack/i);
  });

  it('answers the protected operations with 401 before validating their input', async () => {
    const spec = queries.find('a POST behind a bearer', (s) => s.operation.method === 'post' && requiresBearer(s));
    const answer = await server.send('POST', buildRequest(spec.operation).url, { headers: { 'content-type': 'application/json' }, body: '{}' });

    expect(answer.status).toBe(401);
  });
});

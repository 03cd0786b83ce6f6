import type { Request, Response } from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@gpuaas/errors';
import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { createGatewayClient, type ForwardedRequest, type GatewayClient } from '../src/gateway-client.js';

type Script = (req: Request, res: Response) => void;

let script: Script = (_req, res) => void res.json({ data: { ok: true } });
let server: HttpService;
let client: GatewayClient;
const seen: Array<{ headers: Request['headers']; body: unknown }> = [];
const forwarded: ForwardedRequest = { authorization: 'Bearer abc.def.ghi', correlationId: 'client-test-1', clientAddress: '192.0.2.7' };

beforeAll(async () => {
  server = await createHttpService({
    name: 'scripted-gateway',
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('scripted-gateway', 'silent'),
    configure: (app) => {
      app.post('/graphql', (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          seen.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
          script(req, res);
        });
      });
    },
  });
  client = createGatewayClient({ url: `${server.url}/graphql`, timeoutMs: 300, logger: createLogger('gateway-client-test', 'silent') });
});
afterEach(() => {
  seen.length = 0;
  script = (_req, res) => void res.json({ data: { ok: true } });
});
afterAll(async () => {
  client?.close();
  await server?.close();
});

const run = () => client.execute({ document: 'query Ok { ok }', operationName: 'Ok', variables: { a: 1 } }, forwarded);

async function failure(): Promise<AppError> {
  const error = await run().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

describe('the gateway client', () => {
  it('posts the document and variables with the caller\'s headers and resolves with data', async () => {
    await expect(run()).resolves.toEqual({ ok: true });

    expect(seen[0]!.body).toEqual({ query: 'query Ok { ok }', operationName: 'Ok', variables: { a: 1 } });
    expect(seen[0]!.headers).toMatchObject({ authorization: 'Bearer abc.def.ghi', 'x-correlation-id': 'client-test-1', 'x-forwarded-for': '192.0.2.7' });
  });

  it('reuses its connection between calls', async () => {
    await run();
    await run();

    expect(seen[1]!.headers['connection']).toBe('keep-alive');
    await new Promise<number>((resolve, reject) => server.server.getConnections((error, count) => (error ? reject(error) : resolve(count)))).then((count) => expect(count).toBe(1));
  });

  it('sends a query once more when the kept-alive connection it reused is closed before any answer, but never a mutation', async () => {
    await run();
    let received = 0;
    script = (req, res) => {
      received++;
      if (received === 1) req.socket.destroy();
      else void res.json({ data: { ok: true } });
    };
    await expect(client.execute({ document: 'query Ok { ok }', operationName: 'Ok', idempotent: true }, forwarded)).resolves.toEqual({ ok: true });
    expect(received).toBe(2);

    received = 0;
    script = (req) => {
      received++;
      req.socket.destroy();
    };
    const error = await client.execute({ document: 'mutation Do { do }', operationName: 'Do' }, forwarded).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'service_unavailable' });
    expect(received).toBe(1);
  });

  it('sends no Authorization when the caller has none', async () => {
    await client.execute({ document: 'query Ok { ok }' }, { ...forwarded, authorization: undefined });

    expect(seen[0]!.headers['authorization']).toBeUndefined();
  });

  it('turns the first GraphQL error with a catalog code into that AppError, details included', async () => {
    script = (_req, res) =>
      void res.json({
        data: null,
        errors: [
          { message: 'Email is taken', extensions: { code: 'already_exists', details: { field: 'email' } } },
          { message: 'second', extensions: { code: 'not_found' } },
        ],
      });
    const error = await failure();

    expect([error.code, error.message, error.details]).toEqual(['already_exists', 'Email is taken', { field: 'email' }]);
  });

  it('answers internal_error, with a message of its own, for an error without a catalog code or an internal one', async () => {
    for (const extensions of [{}, { code: 'GRAPHQL_VALIDATION_FAILED' }, { code: 'internal_error' }]) {
      script = (_req, res) => void res.status(400).json({ errors: [{ message: 'secret internals at db.ts:12', extensions }] });
      const error = await failure();

      expect([error.code, error.message]).toEqual(['internal_error', 'An unexpected error occurred']);
    }
  });

  it('answers internal_error for a 200 with neither data nor errors, or a body that is not JSON', async () => {
    script = (_req, res) => void res.json({});
    expect((await failure()).code).toBe('internal_error');
    script = (_req, res) => void res.type('text/plain').send('hello');
    expect((await failure()).code).toBe('internal_error');
  });

  it('answers service_unavailable for a gateway error page, no answer in time, or no gateway at all', async () => {
    script = (_req, res) => void res.status(502).type('text/html').send('<h1>Bad gateway</h1>');
    expect((await failure()).code).toBe('service_unavailable');

    script = () => undefined;
    expect((await failure()).code).toBe('service_unavailable');

    const nowhere = createGatewayClient({ url: 'http://127.0.0.1:9/graphql', timeoutMs: 1000, logger: createLogger('nowhere', 'silent') });
    const error = await nowhere.execute({ document: '{ ok }' }, forwarded).catch((thrown: unknown) => thrown);
    nowhere.close();
    expect(error).toMatchObject({ code: 'service_unavailable' });
  });
});

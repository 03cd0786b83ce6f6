import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubgraphFetcher } from '../src/subgraph-fetcher.js';

interface Received {
  method: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
  socketPort: number | undefined;
}

describe('subgraph fetcher', () => {
  const received: Received[] = [];
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ method: req.method, headers: req.headers, body, socketPort: req.socket.remotePort });
        if (req.url === '/broken') {
          res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/plain' }).end('upstream gone');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'max-age=30' }).end(JSON.stringify({ data: { echo: JSON.parse(body) } }));
      });
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  it('posts the body with its headers and reads a JSON answer with case-insensitive headers', async () => {
    const fetcher = createSubgraphFetcher();
    const body = JSON.stringify({ query: '{ me { id } }', variables: { name: 'Zoë' } });
    const response = await fetcher(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-correlation-id': 'corr-1' }, body });
    expect(response.ok).toBe(true);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('max-age=30');
    expect(await response.json()).toEqual({ data: { echo: { query: '{ me { id } }', variables: { name: 'Zoë' } } } });
    const request = received.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', body });
    expect(request.headers['x-correlation-id']).toBe('corr-1');
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('reuses one kept-alive connection for consecutive calls', async () => {
    const fetcher = createSubgraphFetcher();
    const before = received.length;
    for (let i = 0; i < 3; i++) await (await fetcher(`${url}/graphql`, { method: 'POST', headers: {}, body: '{}' })).json();
    const ports = new Set(received.slice(before).map((request) => request.socketPort));
    expect(ports.size).toBe(1);
  });

  it('reports a non-2xx answer with its status and text body', async () => {
    const response = await createSubgraphFetcher()(`${url}/broken`, { method: 'POST', headers: {}, body: '{}' });
    expect(response.ok).toBe(false);
    expect(response.status).toBe(502);
    expect(response.statusText).toBe('Bad Gateway');
    expect(await response.text()).toBe('upstream gone');
  });

  it('rejects when the subgraph cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(createSubgraphFetcher()(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: {}, body: '{}' })).rejects.toThrow(/ECONNREFUSED/);
  });
});

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '@gpuaas/telemetry';
import { allocationDir, createTerminalHost, parseControl, relayUrlOf, type TerminalHost } from '../../src/terminal/index.js';

/** A stand-in for the platform's relay endpoint: records who attached and hands the socket to the test. */
let server: Server;
let wss: WebSocketServer;
let baseUrl: string;
let dataDir: string;
let host: TerminalHost;
const attached: Array<{ request: IncomingMessage; socket: WebSocket }> = [];

beforeAll(async () => {
  server = createServer();
  wss = new WebSocketServer({ server, handleProtocols: (protocols) => (protocols.has('gpuaas.terminal.v1') ? 'gpuaas.terminal.v1' : false) });
  wss.on('connection', (socket, request) => attached.push({ request, socket }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dataDir = await mkdtemp(join(tmpdir(), 'gpuaas-agent-test-'));
  host = createTerminalHost({ dataDir, logger: createLogger('terminal-host-test', 'silent') });
});

afterAll(async () => {
  await host?.close();
  wss?.close();
  await new Promise((resolve) => server?.close(resolve));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function eventually<T>(check: () => T | undefined, what: () => string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function open(credential = 'nc_test.credential') {
  const sessionId = randomUUID();
  const allocationId = randomUUID();
  const before = attached.length;
  const result = await host.openTerminal(
    { allocationId, payload: { terminal_session_id: sessionId, relay_url: `/internal/v1/terminal/${sessionId}`, ttl_seconds: 60 } },
    { controlPlaneUrl: baseUrl, nodeCredential: () => credential },
  );
  const peer = attached[before]!;
  let output = '';
  const controls: unknown[] = [];
  peer.socket.on('message', (data, isBinary) => {
    if (isBinary) output += (data as Buffer).toString('utf8');
    else controls.push(JSON.parse((data as Buffer).toString('utf8')));
  });
  return {
    result,
    sessionId,
    allocationId,
    peer,
    controls,
    output: () => output,
    type: (text: string) => peer.socket.send(Buffer.from(text), { binary: true }),
    waitFor: (pattern: RegExp) => eventually(() => output.match(pattern) ?? undefined, () => `${pattern} in ${JSON.stringify(output)}`),
  };
}

describe('the agent terminal host', () => {
  it('attaches with the node credential and runs a shell in the allocation directory', async () => {
    const terminal = await open('nc_secret.value');
    expect(terminal.result).toEqual({ relay_session_id: terminal.sessionId });
    expect(terminal.peer.request.url).toBe(`/internal/v1/terminal/${terminal.sessionId}`);
    expect(terminal.peer.request.headers.authorization).toBe('Bearer nc_secret.value');
    expect(terminal.peer.socket.protocol).toBe('gpuaas.terminal.v1');
    const directory = allocationDir(dataDir, terminal.allocationId);
    expect((await stat(directory)).isDirectory()).toBe(true);
    terminal.type('pwd; echo "home=$HOME"\r');
    await terminal.waitFor(new RegExp(`[\\r\\n]${directory.replaceAll('/', '\\/')}\\r?\\n`));
    await terminal.waitFor(new RegExp(`[\\r\\n]home=${directory.replaceAll('/', '\\/')}`));
  });

  it("keeps the agent's own environment out of the shell", async () => {
    process.env['GPUAAS_TEST_SECRET'] = 'do-not-leak';
    try {
      const terminal = await open();
      terminal.type('echo "secret=[$GPUAAS_TEST_SECRET]"\r');
      await terminal.waitFor(/[\r\n]secret=\[\]\r?\n/);
    } finally {
      delete process.env['GPUAAS_TEST_SECRET'];
    }
  });

  it('resizes the terminal and reports the exit code when the shell ends', async () => {
    const terminal = await open();
    terminal.peer.socket.send(JSON.stringify({ type: 'resize', cols: 101, rows: 33 }));
    terminal.type('stty size\r');
    await terminal.waitFor(/[\r\n]33 101\r?\n/);
    const closed = new Promise<number>((resolve) => terminal.peer.socket.once('close', (code) => resolve(code)));
    terminal.type('exit 7\r');
    expect(await closed).toBe(1000);
    expect(terminal.controls).toContainEqual({ type: 'exit', code: 7 });
  });

  it('holds output while the browser side asks it to pause', async () => {
    const terminal = await open();
    terminal.peer.socket.send(JSON.stringify({ type: 'pause' }));
    // The pause travels ahead of the command on the same socket, so nothing the shell prints may arrive until
    // resumed. Proving an absence takes a wait: a shell answers an echo in a few milliseconds when not paused.
    terminal.type('echo paused-$((20+22))\r');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(terminal.output()).not.toMatch(/paused-42/);
    terminal.peer.socket.send(JSON.stringify({ type: 'resume' }));
    await terminal.waitFor(/[\r\n]paused-42/);
  });

  it('ends the shell when the relay closes', async () => {
    const terminal = await open();
    const sessionsBefore = host.openSessions;
    terminal.peer.socket.close(1000, 'browser left');
    await eventually(() => (host.openSessions < sessionsBefore ? true : undefined), () => 'the session to end');
  });

  it('fails the task when the relay refuses it or the payload is incomplete', async () => {
    await expect(
      host.openTerminal({ allocationId: randomUUID(), payload: { terminal_session_id: randomUUID() } }, { controlPlaneUrl: baseUrl, nodeCredential: () => 'x' }),
    ).rejects.toMatchObject({ code: 'invalid_payload' });
    await expect(
      host.openTerminal(
        { allocationId: randomUUID(), payload: { terminal_session_id: randomUUID(), relay_url: '/internal/v1/terminal/x' } },
        { controlPlaneUrl: 'http://127.0.0.1:9', nodeCredential: () => 'x' },
      ),
    ).rejects.toMatchObject({ code: 'relay_unreachable' });
  });
});

describe('terminal framing', () => {
  it('accepts only well-formed control messages', () => {
    expect(parseControl('{"type":"resize","cols":120,"rows":40}')).toEqual({ type: 'resize', cols: 120, rows: 40 });
    expect(parseControl('{"type":"resize","cols":0,"rows":40}')).toBeUndefined();
    expect(parseControl('{"type":"resize","cols":120.5,"rows":40}')).toBeUndefined();
    expect(parseControl('{"type":"shutdown"}')).toBeUndefined();
    expect(parseControl('not json')).toBeUndefined();
    expect(relayUrlOf('https://cp.example.com', '/internal/v1/terminal/abc')).toBe('wss://cp.example.com/internal/v1/terminal/abc');
    expect(relayUrlOf('http://127.0.0.1:4000', '/internal/v1/terminal/abc')).toBe('ws://127.0.0.1:4000/internal/v1/terminal/abc');
  });
});

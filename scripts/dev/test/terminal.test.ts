import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';

const CLIENT = fileURLToPath(new URL('../terminal.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface FakeRelay {
  readonly url: string;
  readonly handshakes: IncomingMessage[];
  readonly received: Buffer[];
  close(): Promise<void>;
}

let relay: FakeRelay | undefined;

afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/**
 * The platform's side of gpuaas.terminal.v1, reduced to a shell that echoes what it is typed and exits with code 7 at
 * Ctrl-D; or, with `refuseWith`, a handshake refused with that HTTP status and error body.
 */
async function startRelay(refuseWith?: { status: number; body: object }): Promise<FakeRelay> {
  const handshakes: IncomingMessage[] = [];
  const received: Buffer[] = [];
  const sockets = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('gpuaas.terminal.v1') ? 'gpuaas.terminal.v1' : false) });
  const server: Server = createServer();
  server.on('upgrade', (request, socket, head) => {
    handshakes.push(request);
    if (refuseWith) {
      const body = JSON.stringify(refuseWith.body);
      socket.end(`HTTP/1.1 ${refuseWith.status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      ws.send(Buffer.from('~ # '), { binary: true });
      ws.on('message', (data, isBinary) => {
        const bytes = Buffer.from(data as Buffer);
        if (!isBinary) return;
        received.push(bytes);
        if (bytes.includes(0x04)) {
          ws.send(JSON.stringify({ type: 'exit', code: 7 }));
          ws.close(1000, 'shell exited');
          return;
        }
        ws.send(Buffer.from(`echo:${bytes.toString('utf8')}`), { binary: true });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/terminal/0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a7b`,
    handshakes,
    received,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function runClient(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLIENT, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('scripts/dev/terminal.ts', () => {
  it('offers the token beside the protocol (never in the URL), types piped input, ends the shell at its end and exits with its code', async () => {
    relay = await startRelay();

    const result = await runClient([relay.url, 'tt_secret-token'], 'uname -a\n');

    expect(result.stderr).toBe('');
    expect(result.code).toBe(7);
    expect(result.stdout).toBe('~ # echo:uname -a\n');
    expect(relay.handshakes[0]!.url).toBe('/terminal/0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a7b');
    expect(String(relay.handshakes[0]!.headers['sec-websocket-protocol']).split(',').map((value) => value.trim())).toEqual(['gpuaas.terminal.v1', 'tt_secret-token']);
    expect(Buffer.concat(relay.received).toString('utf8')).toBe('uname -a\n\u0004');
  });

  it('says why a refused token was refused and exits 1', async () => {
    relay = await startRelay({ status: 401, body: { code: 'unauthenticated', message: 'The terminal token is invalid, expired or already used' } });

    const result = await runClient([relay.url, 'tt_spent'], '');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('terminal refused: HTTP 401');
    expect(result.stderr).toContain('already used');
  });

  it('prints its usage without both arguments', async () => {
    const result = await runClient(['ws://127.0.0.1:1/terminal/x'], '');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: npx tsx scripts/dev/terminal.ts <ws_url> <terminal token>');
  });
});

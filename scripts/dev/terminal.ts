/**
 * A command-line client of the browser terminal, for trying the platform without a console:
 *
 *   npx tsx scripts/dev/terminal.ts <ws_url> <terminal token>
 *
 * with `ws_url` and `token` from `POST /api/v1/allocations/{id}/terminal-token`. The token travels in
 * Sec-WebSocket-Protocol beside `gpuaas.terminal.v1` (never in the URL), as a browser sends it. On a TTY the keyboard
 * goes to the remote shell raw and Ctrl-] disconnects; piped input is typed into the shell and then ends it (Ctrl-D),
 * like `ssh host < script`. Exits with the shell's exit code.
 */
import { WebSocket } from 'ws';

const PROTOCOL = 'gpuaas.terminal.v1';
const CTRL_RIGHT_BRACKET = 0x1d;
const END_OF_TRANSMISSION = Buffer.from([0x04]);

const [wsUrl, token] = process.argv.slice(2);
if (!wsUrl || !token) {
  process.stderr.write('usage: npx tsx scripts/dev/terminal.ts <ws_url> <terminal token>\n');
  process.exit(2);
}

const socket = new WebSocket(wsUrl, [PROTOCOL, token]);
const interactive = process.stdin.isTTY === true;
let shellExitCode: number | undefined;

function restoreTerminal(): void {
  if (interactive) process.stdin.setRawMode(false);
  process.stdin.pause();
}

const sendResize = () => {
  if (process.stdout.columns && process.stdout.rows) socket.send(JSON.stringify({ type: 'resize', cols: process.stdout.columns, rows: process.stdout.rows }));
};

socket.once('unexpected-response', (_request, response) => {
  let body = '';
  response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  response.on('end', () => {
    process.stderr.write(`terminal refused: HTTP ${response.statusCode} ${body}\n`);
    process.exit(1);
  });
});

socket.once('error', (error) => {
  restoreTerminal();
  process.stderr.write(`terminal connection failed: ${error.message}\n`);
  process.exit(1);
});

socket.once('open', () => {
  if (interactive) {
    process.stdin.setRawMode(true);
    process.stderr.write('Connected; Ctrl-] disconnects.\r\n');
    sendResize();
    process.stdout.on('resize', sendResize);
  }
  process.stdin.on('data', (chunk: Buffer) => {
    if (interactive && chunk.includes(CTRL_RIGHT_BRACKET)) {
      socket.close(1000, 'client disconnected');
      return;
    }
    socket.send(chunk, { binary: true });
  });
  // Piped input ends the shell once it has all been typed, so `echo … | terminal.ts` terminates.
  process.stdin.once('end', () => {
    if (socket.readyState === socket.OPEN) socket.send(END_OF_TRANSMISSION, { binary: true });
  });
});

socket.on('message', (data, isBinary) => {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  if (isBinary) {
    process.stdout.write(bytes);
    return;
  }
  // Text frames are control messages; only the shell's exit matters to this client.
  try {
    const message = JSON.parse(bytes.toString('utf8')) as { type?: unknown; code?: unknown };
    if (message.type === 'exit' && typeof message.code === 'number') shellExitCode = message.code;
  } catch {
    // Malformed control messages are ignored, as the protocol says.
  }
});

socket.once('close', (code, reason) => {
  restoreTerminal();
  if (code !== 1000) process.stderr.write(`\r\nterminal closed: ${code} ${reason.toString('utf8')}\n`);
  process.exit(shellExitCode ?? (code === 1000 ? 0 : 1));
});

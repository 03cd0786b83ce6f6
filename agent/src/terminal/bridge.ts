import type { IPty } from 'node-pty';
import type { RawData, WebSocket } from 'ws';
import { parseControl } from './framing.js';

/** Output queued on the socket above this pauses the shell; it resumes below the low mark. */
const HIGH_WATER_BYTES = 256 * 1024;
const LOW_WATER_BYTES = 64 * 1024;

/**
 * Joins a shell's PTY and the relay socket until either ends. Flow control: the shell is paused while the socket
 * is backed up (local) or while the browser's side asks (`pause`/`resume` relayed from the platform), so a
 * `yes` in the shell can never grow memory without bound. `early` are messages that arrived before the shell did.
 */
export function bridgeShell(pty: IPty, socket: WebSocket, early: ReadonlyArray<readonly [RawData, boolean]>, onEnd: () => void): void {
  let pausedBySocket = false;
  let pausedByPeer = false;
  let ended = false;
  const applyFlow = () => {
    if (pausedBySocket || pausedByPeer) pty.pause();
    else pty.resume();
  };

  const afterSend = () => {
    if (pausedBySocket && socket.bufferedAmount < LOW_WATER_BYTES) {
      pausedBySocket = false;
      applyFlow();
    }
  };

  const dataSubscription = pty.onData((data) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(Buffer.from(data, 'utf8'), { binary: true }, afterSend);
    if (!pausedBySocket && socket.bufferedAmount > HIGH_WATER_BYTES) {
      pausedBySocket = true;
      applyFlow();
    }
  });

  const exitSubscription = pty.onExit(({ exitCode }) => {
    ended = true;
    if (socket.readyState === socket.OPEN) {
      socket.send(JSON.stringify({ type: 'exit', code: exitCode }));
      socket.close(1000, 'shell exited');
    }
  });

  const onMessage = (data: RawData, isBinary: boolean) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      if (!ended) pty.write(bytes);
      return;
    }
    const control = parseControl(bytes.toString('utf8'));
    if (!control) return;
    if (control.type === 'resize' && !ended) pty.resize(control.cols, control.rows);
    if (control.type === 'pause' || control.type === 'resume') {
      pausedByPeer = control.type === 'pause';
      applyFlow();
    }
  };
  for (const [data, isBinary] of early) onMessage(data, isBinary);
  socket.on('message', onMessage);

  socket.once('close', () => {
    dataSubscription.dispose();
    exitSubscription.dispose();
    if (!ended) {
      ended = true;
      pty.kill();
    }
    onEnd();
  });
}

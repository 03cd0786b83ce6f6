import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

const NATS_SERVER = '/usr/sbin/nats-server';

/**
 * SIGTERM (default) stops the server cleanly, its store flushed. SIGKILL is a crash: JetStream may lose the last
 * messages it had acked but not yet written from its cache, so use it only where that loss is what is tested.
 */
export type StopSignal = 'SIGTERM' | 'SIGKILL';

export interface PrivateNats {
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory; it survives restart() and is removed by stop(). */
  readonly storeDir: string;
  /** Stops the server and starts it again on the same port and store. */
  restart(signal?: StopSignal): Promise<void>;
  /** Stops the server without starting it again; start() brings it back on the same port and store. */
  kill(signal?: StopSignal): Promise<void>;
  start(): Promise<void>;
  /** Stops the server for good and removes its store. */
  stop(): Promise<void>;
}

/**
 * Runs a private `nats-server -js` on a free port with its own store directory, for tests that restart or kill
 * the server or must not share streams. Readiness is awaited by connecting and asking JetStream for account info.
 */
export async function startPrivateNats(options: { readyTimeoutMs?: number } = {}): Promise<PrivateNats> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const storeDir = await mkdtemp(join(tmpdir(), 'gpuaas-nats-'));
  let port = 0;
  let child: ChildProcess | undefined;

  const killChild = () => child?.kill('SIGKILL');
  process.once('exit', killChild);

  const launch = async () => {
    const proc = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) => {
      proc.once('exit', (code, signal) => reject(new Error(`nats-server exited (${code ?? signal}) before it was ready: ${stderr}`)));
      proc.once('error', reject);
    });
    exited.catch(() => undefined);
    await Promise.race([waitUntilReady(`nats://127.0.0.1:${port}`, readyTimeoutMs), exited]);
  };

  const killAndWait = async (signal: StopSignal = 'SIGTERM') => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await gone;
  };

  // A port picked as free can be taken before the server binds it; try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await killAndWait('SIGKILL');
      if (attempt >= 3) {
        await rm(storeDir, { recursive: true, force: true });
        process.removeListener('exit', killChild);
        throw error;
      }
    }
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    kill: killAndWait,
    start: launch,
    async restart(signal?: StopSignal) {
      await killAndWait(signal);
      await launch();
    },
    async stop() {
      await killAndWait('SIGKILL');
      process.removeListener('exit', killChild);
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** A unique namespace (`t` + hex) for streams and subjects on a shared server; valid as NATS_NAMESPACE. */
export function testNamespace(): string {
  return `t${randomBytes(6).toString('hex')}`;
}

async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
      try {
        await (await jetstreamManager(nc)).getAccountInfo();
        return;
      } finally {
        await nc.close();
      }
    } catch (error) {
      lastError = error;
      // The server is still binding or recovering its store; the next connect attempt is the wait.
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  throw new Error(`nats-server at ${url} not ready after ${timeoutMs} ms: ${String(lastError)}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

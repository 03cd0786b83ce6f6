import { WebSocket } from 'ws';
import type { TerminalHost } from '@gpuaas/agent/terminal';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string | (() => string),
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A browser's terminal: everything received so far, as text, plus the control messages and the close. */
export interface BrowserTerminal {
  readonly socket: WebSocket;
  readonly protocol: string;
  output(): string;
  readonly controls: unknown[];
  readonly closed: Promise<{ code: number; reason: string }>;
  type(text: string): void;
  control(message: object): void;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

export function connectBrowser(url: string, protocols: string[]): Promise<BrowserTerminal> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols);
    let text = '';
    const controls: unknown[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolveClose) =>
      socket.once('close', (code, reason) => resolveClose({ code, reason: reason.toString('utf8') })),
    );
    socket.on('message', (data, isBinary) => {
      const bytes = Buffer.from(data as Buffer);
      if (isBinary) text += bytes.toString('utf8');
      else controls.push(JSON.parse(bytes.toString('utf8')));
    });
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => reject(Object.assign(new Error(`refused with ${response.statusCode}`), { status: response.statusCode, body: JSON.parse(body || '{}') })));
    });
    socket.once('error', reject);
    socket.once('open', () =>
      resolve({
        socket,
        protocol: socket.protocol,
        output: () => text,
        controls,
        closed,
        type: (input) => socket.send(Buffer.from(input, 'utf8'), { binary: true }),
        control: (message) => socket.send(JSON.stringify(message)),
        waitFor: (pattern, timeoutMs) => eventually(() => text.match(pattern) ?? undefined, () => `output matching ${pattern} in ${JSON.stringify(text)}`, timeoutMs),
      }),
    );
  });
}

/** What a refused connection answered: its HTTP status and error body. */
export async function refusal(connecting: Promise<unknown>): Promise<{ status: number; body: { code?: string } }> {
  try {
    await connecting;
  } catch (error) {
    const { status, body } = error as { status?: number; body?: { code?: string } };
    if (status !== undefined) return { status, body: body ?? {} };
    throw error;
  }
  throw new Error('the connection was accepted');
}

/**
 * The agent's task loop, reduced to what terminals need: long-poll the node's tasks on the control plane, run
 * open_terminal tasks with the terminal host, report each result. Stops when `stop()` is called.
 */
export function runAgentTaskLoop(controlPlaneUrl: string, nodeId: string, credential: string, host: TerminalHost) {
  let running = true;
  const reported: Array<{ kind: string; outcome: string }> = [];
  const headers = { authorization: `Bearer ${credential}` };
  const loop = (async () => {
    while (running) {
      const response = await fetch(`${controlPlaneUrl}/internal/v1/nodes/${nodeId}/tasks/wait?wait_seconds=1`, { headers }).catch(() => undefined);
      if (!response || response.status !== 200) {
        await response?.arrayBuffer();
        continue;
      }
      const task = (await response.json()) as { task_id: string; kind: string; allocation_id: string | null; payload: Record<string, unknown>; fencing_token: number };
      let outcome: Record<string, unknown>;
      try {
        const result = await host.openTerminal({ allocationId: task.allocation_id, payload: task.payload }, { controlPlaneUrl, nodeCredential: () => credential });
        outcome = { fencing_token: task.fencing_token, outcome: 'succeeded', result };
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'agent_error';
        outcome = { fencing_token: task.fencing_token, outcome: 'failed', error: { code, message: String(error) } };
      }
      const posted = await fetch(`${controlPlaneUrl}/internal/v1/nodes/${nodeId}/tasks/${task.task_id}/result`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(outcome),
      });
      await posted.arrayBuffer();
      reported.push({ kind: task.kind, outcome: String(outcome['outcome']) });
    }
  })();
  return {
    reported,
    async stop() {
      running = false;
      await loop;
    },
  };
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTerminalHost, allocationDir, type TerminalHost } from '@gpuaas/agent/terminal';
import { createLogger } from '@gpuaas/telemetry';
import { createTestDatabase, createTestRedis, testNamespace, type TestDatabase, type TestRedis } from '@gpuaas/testkit';
import { sha256Hex } from '../../../subgraphs/compute/src/nodes/tokens.js';
import { createTerminalToken } from '../../../subgraphs/compute/src/terminal/service.js';
import { terminalTokenHash } from '../../../subgraphs/compute/src/terminal/tokens.js';
import { seedTerminalWorld, type TerminalWorld } from '../../../subgraphs/compute/test/terminal/support/seed.js';
import { defaultRestAdapterConfig } from '../../src/config.js';
import { createRestAdapter, type RestAdapter } from '../../src/server.js';
import { connectBrowser, eventually, refusal, runAgentTaskLoop } from './support.js';

const PROTOCOL = 'gpuaas.terminal.v1';

let database: TestDatabase;
let redis: TestRedis;
let pool: pg.Pool;
let browserSide: RestAdapter;
let agentSide: RestAdapter;
let world: TerminalWorld;
let dataDir: string;
let host: TerminalHost;
let agentLoop: ReturnType<typeof runAgentTaskLoop>;

beforeAll(async () => {
  database = await createTestDatabase();
  redis = await createTestRedis();
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  const config = defaultRestAdapterConfig({
    port: 0,
    logLevel: 'silent',
    gatewayUrl: 'http://127.0.0.1:9/graphql',
    redisKeyPrefix: redis.keyPrefix,
    databaseUrl: database.url,
    natsUrl: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    natsNamespace: testNamespace(),
  });
  const logger = createLogger('terminal-relay-test', 'silent');
  // Two replicas: the browser lands on one, the agent on the other; they only meet over NATS.
  browserSide = await createRestAdapter(config, { logger });
  agentSide = await createRestAdapter(config, { logger });
  world = await seedTerminalWorld(pool, sha256Hex);
  dataDir = await mkdtemp(join(tmpdir(), 'gpuaas-agent-'));
  host = createTerminalHost({ dataDir, logger });
  agentLoop = runAgentTaskLoop(agentSide.url, world.nodeId, world.nodeCredential, host);
});

afterAll(async () => {
  await agentLoop?.stop();
  await host?.close();
  await browserSide?.close();
  await agentSide?.close();
  await pool?.end();
  await redis?.cleanup();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const terminalDeps = () =>
  ({ pool, nats: undefined as never, logger: createLogger('t', 'silent'), config: { natsNamespace: '', terminalWsBaseUrl: browserSide.url.replace('http', 'ws'), policies: browserSide.internalApi!.deps.config.policies } });

async function activeAllocation() {
  const owner = await world.newUser();
  const projectId = await world.newProject(owner);
  const allocationId = await world.newAllocation(projectId, owner);
  return { owner, allocationId };
}

async function tokenFor(owner: string, allocationId: string) {
  return createTerminalToken(terminalDeps(), { userId: owner, role: 'user', sessionId: 's', tokenVersion: 0, correlationId: 'c' }, allocationId);
}

const sessionOf = async (token: string) =>
  (await pool.query<{ used_at: Date | null; closed_at: Date | null }>('SELECT used_at, closed_at FROM compute.terminal_sessions WHERE token_hash = $1', [terminalTokenHash(token)])).rows[0]!;

describe('the browser terminal relay', () => {
  it("relays a real shell in the allocation's directory between two replicas", async () => {
    const { owner, allocationId } = await activeAllocation();
    const issued = await tokenFor(owner, allocationId);
    expect(issued.wsUrl).toBe(`${browserSide.url.replace('http', 'ws')}/terminal/${allocationId}`);
    const terminal = await connectBrowser(issued.wsUrl, [PROTOCOL, issued.token]);
    expect(terminal.protocol).toBe(PROTOCOL);

    const [a, b] = [Math.floor(Math.random() * 10_000), Math.floor(Math.random() * 10_000)];
    // Output lines may follow a terminal escape sequence (bash toggles bracketed paste), so a line starts after \r or \n.
    // Typed at once, before the agent attached: held by the relay and delivered in order.
    terminal.type(`echo hello-$((${a}+${b}))\r`);
    await terminal.waitFor(new RegExp(`[\\r\\n]hello-${a + b}\\r?\\n`));
    terminal.type('pwd\r');
    const directory = allocationDir(dataDir, allocationId);
    await terminal.waitFor(new RegExp(`[\\r\\n]${directory.replaceAll('/', '\\/')}\\r?\\n`));
    terminal.type('echo "home=$HOME"\r');
    await terminal.waitFor(new RegExp(`home=${directory.replaceAll('/', '\\/')}`));

    terminal.control({ type: 'resize', cols: 132, rows: 40 });
    terminal.type('stty size\r');
    await terminal.waitFor(/[\r\n]40 132\r?\n/);

    expect(agentLoop.reported).toContainEqual({ kind: 'open_terminal', outcome: 'succeeded' });
    terminal.socket.close(1000, 'done');
    await terminal.closed;
    await eventually(async () => (await sessionOf(issued.token)).closed_at !== null, 'the session to be marked closed');
    await eventually(() => host.openSessions === 0, "the agent's shell to end");
  });

  it('closes the browser with the exit code when the shell exits', async () => {
    const { owner, allocationId } = await activeAllocation();
    const issued = await tokenFor(owner, allocationId);
    const terminal = await connectBrowser(issued.wsUrl, [PROTOCOL, issued.token]);
    terminal.type('exit 3\r');
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'shell exited' });
    expect(terminal.controls).toContainEqual({ type: 'exit', code: 3 });
    await eventually(async () => (await sessionOf(issued.token)).closed_at !== null, 'the session to be marked closed');
  });

  it('accepts a token once: a second connection is refused', async () => {
    const { owner, allocationId } = await activeAllocation();
    const issued = await tokenFor(owner, allocationId);
    const terminal = await connectBrowser(issued.wsUrl, [PROTOCOL, issued.token]);
    const second = await refusal(connectBrowser(issued.wsUrl, [PROTOCOL, issued.token]));
    expect(second).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    terminal.socket.close();
    await terminal.closed;
  });

  it('never accepts the token in the URL, and leaves it unspent', async () => {
    const { owner, allocationId } = await activeAllocation();
    const issued = await tokenFor(owner, allocationId);
    const inUrl = await refusal(connectBrowser(`${issued.wsUrl}?token=${issued.token}`, [PROTOCOL]));
    expect(inUrl).toMatchObject({ status: 400, body: { code: 'validation_error' } });
    const withoutToken = await refusal(connectBrowser(issued.wsUrl, [PROTOCOL]));
    expect(withoutToken).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    expect((await sessionOf(issued.token)).used_at).toBeNull();
    const terminal = await connectBrowser(issued.wsUrl, [PROTOCOL, issued.token]);
    terminal.socket.close();
    await terminal.closed;
  });

  it('refuses an expired token', async () => {
    const { owner, allocationId } = await activeAllocation();
    const issued = await tokenFor(owner, allocationId);
    await pool.query(
      `UPDATE compute.terminal_sessions SET created_at = now() - interval '2 minutes', expires_at = now() - interval '1 second' WHERE token_hash = $1`,
      [terminalTokenHash(issued.token)],
    );
    expect(await refusal(connectBrowser(issued.wsUrl, [PROTOCOL, issued.token]))).toMatchObject({ status: 401 });
  });

  it("refuses an agent without this node's credential", async () => {
    const { owner, allocationId } = await activeAllocation();
    const issued = await tokenFor(owner, allocationId);
    const agentUrl = (sessionId: string) => `${agentSide.url.replace('http', 'ws')}/internal/v1/terminal/${sessionId}`;
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM compute.terminal_sessions WHERE token_hash = $1', [terminalTokenHash(issued.token)]);
    const sessionId = rows[0]!.id;
    // Not yet opened by a browser: nothing to attach to.
    const early = await refusal(new Promise((resolve, reject) => {
      import('ws').then(({ WebSocket }) => {
        const socket = new WebSocket(agentUrl(sessionId), [PROTOCOL], { headers: { authorization: `Bearer ${world.nodeCredential}` } });
        socket.once('open', () => resolve(socket));
        socket.once('unexpected-response', (_q, response) => reject(Object.assign(new Error('refused'), { status: response.statusCode })));
        socket.once('error', reject);
      });
    }));
    expect(early.status).toBe(404);
    const forged = await refusal(new Promise((resolve, reject) => {
      import('ws').then(({ WebSocket }) => {
        const socket = new WebSocket(agentUrl(sessionId), [PROTOCOL], { headers: { authorization: 'Bearer nc_forged.credential' } });
        socket.once('open', () => resolve(socket));
        socket.once('unexpected-response', (_q, response) => reject(Object.assign(new Error('refused'), { status: response.statusCode })));
        socket.once('error', reject);
      });
    }));
    expect(forged.status).toBe(401);
  });
});

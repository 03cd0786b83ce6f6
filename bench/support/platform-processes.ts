/**
 * The whole platform in its production shape for a benchmark: every deployable its own Node process, as deployed.
 * A fresh migrated database seeded with the demo catalog and OS images, Redis under a prefix of its own, a private
 * `nats-server -js`, then (through bench/support/processes.ts) the five subgraphs, the gateway, the REST adapter with
 * its database connection (node-agent API `/internal/v1`), the workers with every role; finally the simulated agent
 * started from its own CLI (`agent/src/main.ts`), joined as an operator would: a platform admin creates the node over
 * REST and the agent registers with the bootstrap token. Ready once the agent's first discovery turned cards into slots.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { SimulatedLayout } from '@gpuaas/agent';
import { testNamespace } from '@gpuaas/testkit';
import { workerRoles } from '@gpuaas/workers';
import { createNodeOverRest, freePort, newOperator, startSeededBackingServices, until } from '../../e2e/test/support/platform-stack.js';
import { cpuSecondsOf, startServiceProcess, type ServiceProcess } from './processes.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AGENT_MAIN = fileURLToPath(new URL('../../agent/src/main.ts', import.meta.url));
const IDENTITY_SECRET = 'bench-platform-gateway-identity-secret-0123456789';

export interface PlatformProcessesOptions {
  readonly layout: SimulatedLayout;
  /** Task loops of the agent (AGENT_MAX_CONCURRENT_TASKS). */
  readonly agentConcurrency: number;
  readonly nodeEnv?: 'test' | 'production';
  readonly logLevel?: string;
  /**
   * GATEWAY_MODE of the REST adapter, always set: the adapter infers `remote` from GATEWAY_URL when it is unset,
   * while `npm start` (scripts/dev.ts) passes both and runs `embedded`.
   */
  readonly restGatewayMode: 'embedded' | 'remote';
  /**
   * The outbox relay in a process of its own, the other worker roles in another (production runs each role as its
   * own replica set); otherwise one workers process runs every role, as `npm start` does.
   */
  readonly relayApart?: boolean;
}

/** A child process whose CPU the bench reads: the deployables, the agent, nats-server. */
export interface MeteredProcess {
  readonly role: string;
  cpuSeconds(): number;
}

export interface PlatformProcesses {
  readonly restUrl: string;
  readonly gatewayUrl: string;
  /** A pool on the platform's database (stage timestamps, Postgres backend CPU). */
  readonly db: pg.Pool;
  readonly operatorToken: string;
  readonly processes: readonly MeteredProcess[];
  close(): Promise<void>;
}

export async function startPlatformProcesses(options: PlatformProcessesOptions): Promise<PlatformProcesses> {
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  const processes: MeteredProcess[] = [];
  const started = (service: ServiceProcess) => {
    closers.push(() => service.stop());
    processes.push(service);
    return service;
  };
  try {
    const { database, redis, nats, db } = await startSeededBackingServices(closers);
    const natsPid = await pidWithArgument(nats.storeDir);
    if (natsPid !== undefined) processes.push({ role: 'nats-server', cpuSeconds: () => cpuSecondsOf(natsPid) });

    // The terminal token's ws_url names the REST adapter, which starts last: its port is chosen up front.
    const restPort = await freePort();
    const env: Record<string, string> = {
      // The configuration a deployment runs: production mode, every default (the relay's 1 s fallback sweep too).
      NODE_ENV: options.nodeEnv ?? 'production',
      LOG_LEVEL: options.logLevel ?? 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      NATS_URL: nats.url,
      NATS_NAMESPACE: testNamespace(),
      GATEWAY_IDENTITY_SECRET: IDENTITY_SECRET,
      // Production wants a named mail sender; the outbox table is the one that needs nothing outside.
      MAIL_SENDER: 'outbox',
      TERMINAL_WS_BASE_URL: `ws://127.0.0.1:${restPort}`,
    };
    // Workers and subgraphs need nothing from each other to start; booting them together saves a tsx start-up.
    const workerProcesses = options.relayApart
      ? [
          startServiceProcess('workers', { ...env, WORKER_ROLES: 'outbox-relay' }, { label: 'outbox-relay' }),
          startServiceProcess('workers', { ...env, WORKER_ROLES: workerRoles.filter((role) => role !== 'outbox-relay').join(',') }),
        ]
      : [startServiceProcess('workers', { ...env, WORKER_ROLES: 'all' })];
    const [subgraphs, ...workers] = await Promise.allSettled([startServiceProcess('subgraphs', env), ...workerProcesses]);
    for (const outcome of [subgraphs!, ...workers]) if (outcome.status === 'fulfilled') started(outcome.value);
    for (const outcome of [subgraphs!, ...workers]) if (outcome.status === 'rejected') throw outcome.reason;
    const subgraphUrls = (subgraphs as PromiseFulfilledResult<ServiceProcess>).value.urls;
    const gatewayEnv = {
      ACCESS_URL: `${subgraphUrls['access']}/graphql`,
      COMPUTE_URL: `${subgraphUrls['compute']}/graphql`,
      BILLING_URL: `${subgraphUrls['billing']}/graphql`,
      WORKLOADS_URL: `${subgraphUrls['workloads']}/graphql`,
      PLATFORM_URL: `${subgraphUrls['platform']}/graphql`,
      ACCESS_JWKS_URL: `${subgraphUrls['access']}/.well-known/jwks.json`,
    };
    const gateway = started(await startServiceProcess('gateway', { ...env, ...gatewayEnv }));
    const gatewayUrl = gateway.urls['gateway']!;
    // The adapter gets the gateway's URL and the gateway's own variables, so either mode finds what it reads.
    const rest = started(
      await startServiceProcess('rest', {
        ...env,
        ...gatewayEnv,
        PORT: String(restPort),
        GATEWAY_URL: `${gatewayUrl}/graphql`,
        GATEWAY_MODE: options.restGatewayMode,
      }),
    );
    const restUrl = rest.urls['rest']!;

    const operatorToken = (await newOperator(restUrl, db)).token;
    const { hostname, node, bootstrapToken } = await createNodeOverRest(restUrl, operatorToken, 'sim-bench', { bench: 'time-to-active' });

    const agentDir = await mkdtemp(join(tmpdir(), 'gpuaas-bench-agent-'));
    closers.push(() => rm(agentDir, { recursive: true, force: true }));
    const agent = startAgentProcess(
      ['--control-plane', restUrl, '--hostname', hostname, '--data-dir', agentDir, '--state-file', join(agentDir, 'state.json'), '--health-port', '0', '--simulated-layout', JSON.stringify(options.layout)],
      {
        NODE_ENV: env['NODE_ENV']!,
        LOG_LEVEL: env['LOG_LEVEL']!,
        // The agent's usage asks for the token in the environment: arguments are visible in ps.
        BOOTSTRAP_TOKEN: bootstrapToken,
        AGENT_DRIVER: 'simulated',
        AGENT_MAX_CONCURRENT_TASKS: String(options.agentConcurrency),
        // Telemetry at the agent's default interval (10 s), like every other setting here.
        SIMULATED_PROVISION_DELAY_MS: '0',
      },
    );
    closers.push(() => agent.stop());
    processes.push(agent);
    await until(
      () => `the agent's node ${node.id} to be registered with slots${agent.exited() ? ` (the agent exited: ${agent.output()})` : ''}`,
      async () => {
        // ci-allow canonical_error_guard: benchmark set-up
        if (agent.exited()) throw new Error(`the agent exited before its node had slots:\n${agent.output()}`);
        const { rows } = await db.query<{ slots: number }>(
          `SELECT count(s.id)::int AS slots FROM compute.nodes n JOIN compute.slots s ON s.node_id = n.id
            WHERE n.id = $1 AND n.topology_discovered_at IS NOT NULL`,
          [node.id],
        );
        return (rows[0]?.slots ?? 0) > 0 ? true : undefined;
      },
      60_000,
    );
    return { restUrl, gatewayUrl, db, operatorToken, processes, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

interface AgentProcess extends MeteredProcess {
  exited(): boolean;
  /** The last lines it printed. */
  output(): string;
  stop(): Promise<void>;
}

/** The agent's own CLI entry as a child, exactly as a node's service manager starts it. */
function startAgentProcess(args: readonly string[], env: Readonly<Record<string, string>>): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', AGENT_MAIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      output = `${output}${line}\n`.slice(-8000);
      // Warnings explain odd figures (failed polls, refused results): pass them on.
      process.stderr.write(`[agent] ${line}\n`);
    });
  }
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    role: 'agent',
    cpuSeconds: () => cpuSecondsOf(child.pid),
    exited,
    output: () => output,
    stop: async () => {
      if (exited()) return;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** CPU seconds of each Postgres backend serving `db`'s database, by pid (server on this machine, Linux /proc). */
export async function postgresBackendCpu(db: pg.Pool): Promise<Map<number, number>> {
  const { rows } = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`);
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    const seconds = cpuSecondsOf(pid);
    if (Number.isFinite(seconds)) cpu.set(pid, seconds);
  }
  return cpu;
}

/**
 * CPU the backends used between two readings: a backend that appeared in between counts whole (it began in the
 * window); one that ended in between is lost, so pooled (long-lived) connections are what this measures well.
 */
export function postgresCpuBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let seconds = 0;
  for (const [pid, now] of after) seconds += now - (before.get(pid) ?? 0);
  return seconds;
}

/** The pid of the process whose command line holds `argument` (e.g. nats-server's store directory), if readable. */
async function pidWithArgument(argument: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.split('\0').includes(argument)) return Number(entry);
  }
  return undefined;
}

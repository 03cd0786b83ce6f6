/**
 * The platform in one process for a developer's machine (behind `npm start`): migrates and seeds the database,
 * starts the five subgraphs, the gateway, the REST adapter, one simulated node agent and the workers on their
 * default ports, prints the URLs, and closes everything in reverse order on Ctrl-C. Production runs each of
 * these as its own process through its `main.ts`.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { redactUrl } from '@gpuaas/db';
import { closeOnSignals, openDomainConnections, type Closeable } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { createAccessSubgraph, loadAccessConfig } from '../subgraphs/access/src/index.js';
import { createComputeSubgraph, loadComputeConfig } from '../subgraphs/compute/src/index.js';
import { createBillingSubgraph, loadBillingConfig } from '../subgraphs/billing/src/index.js';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '../subgraphs/workloads/src/index.js';
import { createPlatformSubgraph, loadPlatformConfig } from '../subgraphs/platform/src/index.js';
import { seedDemoCatalog } from '../subgraphs/compute/src/seed/demo-catalog.js';
import { ensureDemoNode, type DemoNodeAccess } from '../subgraphs/compute/src/seed/demo-node.js';
import { seedDemoOsImages } from '../subgraphs/platform/src/seed/demo-os-images.js';
import { createGateway, loadGatewayConfig } from '../gateway/src/index.js';
import { createRestAdapter, loadRestAdapterConfig } from '../rest-adapter/src/index.js';
import { createWorkers, loadWorkersConfig } from '../workers/src/index.js';
import { createAgent, loadAgentConfig, readAgentState, type Agent } from '../agent/src/index.js';
import { DEFAULT_DATABASE_URL, migrateAll } from './migrate.js';
import { ensureDevOperator, type DevOperator } from './dev/operator.js';

const logger = createLogger('dev', 'info');
const env = process.env;
const host = env['HOST'] ?? '127.0.0.1';
const databaseUrl = env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
/** Local state that survives restarts (the operator's password, the agent's node credential, its allocations' directories); gitignored. */
const dataDir = env['DEV_DATA_DIR'] || fileURLToPath(new URL('../.data/', import.meta.url));

/** Each deployable reads `PORT`; in one process each gets its own, overridable as `<NAME>_PORT`. */
function envFor(name: string, defaultPort: number): Record<string, string | undefined> {
  return { ...env, HOST: host, DATABASE_URL: databaseUrl, LOG_LEVEL: env['LOG_LEVEL'] ?? 'warn', PORT: env[`${name}_PORT`] ?? String(defaultPort) };
}

async function seed(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await seedDemoCatalog(client);
    await seedDemoOsImages(client);
  } finally {
    await client.end();
  }
}

/**
 * Makes sure the demo node exists and that the in-process agent can join it: a stored credential that still works is
 * reused (a restart does not register again); otherwise the state file goes and the agent registers with a fresh
 * bootstrap token, as an operator would hand one to a new host.
 */
async function joinDemoNode(controlPlaneUrl: string, stateFile: string): Promise<DemoNodeAccess> {
  const config = loadComputeConfig(envFor('COMPUTE', 4102));
  const connections = await openDomainConnections({ name: 'dev-demo-node', databaseUrl, redisUrl: config.redisUrl, natsUrl: config.natsUrl, logger, poolSize: 2 });
  try {
    const stored = await readAgentState(stateFile).catch(() => undefined);
    // A credential kept for another control plane URL makes the agent register again, which needs a token.
    const usable = stored && stored.controlPlaneUrl === controlPlaneUrl ? stored : undefined;
    const demo = await ensureDemoNode({ pool: connections.pool, nats: connections.nats, redis: connections.redis, logger, config }, usable);
    if (demo.bootstrapToken) await rm(stateFile, { force: true });
    return demo;
  } finally {
    await connections.close();
  }
}

/** Waits, at most `timeoutMs`, until the agent's first heartbeat was answered. */
async function firstHeartbeat(agent: Agent, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (agent.nodeState === undefined && agent.stopReason === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (agent.nodeState === undefined) logger.warn({ stopReason: agent.stopReason }, 'the demo agent has not heartbeated yet; starting the workers anyway');
}

function operatorLines(operator: DevOperator): string[] {
  const said = {
    created: 'created',
    reused: 'from an earlier start',
    password_reset: 'its stored password was missing, so a new one was set',
    password_changed_elsewhere: 'its password was changed since the launcher set it, so it is not shown',
  }[operator.action];
  return [
    `  Operator        ${operator.email} (platform admin; ${said})`,
    ...(operator.password !== undefined ? [`  Password        ${operator.password}   (kept in ${operator.credentialFile})`] : []),
    `  Try it          README.md "Try it": register, get credit from the operator, allocate, use the terminal, release`,
  ];
}

async function main(): Promise<void> {
  const started: Closeable[] = [];
  closeOnSignals(logger, started);
  const startedAt = Date.now();

  const applied = await migrateAll(databaseUrl);
  const appliedCount = applied.reduce((sum, set) => sum + set.applied.length, 0);
  await seed();
  const operator = await ensureDevOperator(databaseUrl, join(dataDir, 'operator.json'));

  const subgraphs = await Promise.all([
    createAccessSubgraph(loadAccessConfig(envFor('ACCESS', 4101))),
    // Terminal tokens name the REST adapter's websocket URL, which only this launcher knows before it starts.
    createComputeSubgraph(loadComputeConfig({ ...envFor('COMPUTE', 4102), TERMINAL_WS_BASE_URL: env['TERMINAL_WS_BASE_URL'] || `ws://${host}:${envFor('REST', 4000)['PORT']}` })),
    createBillingSubgraph(loadBillingConfig(envFor('BILLING', 4103))),
    createWorkloadsSubgraph(loadWorkloadsConfig(envFor('WORKLOADS', 4104))),
    createPlatformSubgraph(loadPlatformConfig(envFor('PLATFORM', 4105))),
  ]);
  started.push(...subgraphs);
  const [access, compute, billing, workloads, platform] = subgraphs;
  const gateway = await createGateway(
    loadGatewayConfig({
      ...envFor('GATEWAY', 4001),
      ACCESS_URL: `${access!.url}/graphql`,
      COMPUTE_URL: `${compute!.url}/graphql`,
      BILLING_URL: `${billing!.url}/graphql`,
      WORKLOADS_URL: `${workloads!.url}/graphql`,
      PLATFORM_URL: `${platform!.url}/graphql`,
    }),
  );
  started.push(gateway);
  // The REST adapter runs the gateway's engine in its own process (GATEWAY_MODE=embedded, the production default),
  // configured from the gateway's variables; GATEWAY_MODE=remote sends its GraphQL to the gateway above instead.
  const rest = await createRestAdapter(
    loadRestAdapterConfig({
      ...envFor('REST', 4000),
      GATEWAY_MODE: env['GATEWAY_MODE'] || 'embedded',
      GATEWAY_URL: `${gateway.url}/graphql`,
      ACCESS_URL: `${access!.url}/graphql`,
      COMPUTE_URL: `${compute!.url}/graphql`,
      BILLING_URL: `${billing!.url}/graphql`,
      WORKLOADS_URL: `${workloads!.url}/graphql`,
      PLATFORM_URL: `${platform!.url}/graphql`,
    }),
  );
  started.push(rest);
  const agentDir = join(dataDir, 'agent');
  const stateFile = join(agentDir, 'sim-node-1.json');
  const demo = await joinDemoNode(rest.url, stateFile);
  const agent = createAgent(
    loadAgentConfig([], {
      ...envFor('AGENT', 4301),
      HEALTH_HOST: host,
      HEALTH_PORT: env['AGENT_PORT'] ?? '4301',
      CONTROL_PLANE_URL: rest.url,
      AGENT_HOSTNAME: demo.hostname,
      AGENT_STATE_FILE: stateFile,
      AGENT_DATA_DIR: agentDir,
      BOOTSTRAP_TOKEN: demo.bootstrapToken,
      SIMULATED_LAYOUT: JSON.stringify(demo.layout),
    }),
  );
  await agent.start();
  started.push(agent);
  // The node monitor must not judge the node by its silence while this launcher was stopped: it starts once the
  // agent has heartbeated again, so a restart does not take the node offline (and its allocations with it).
  await firstHeartbeat(agent);
  // Every worker role (outbox relay, DLQ handler, provisioning worker, node monitor, …) unless WORKER_ROLES narrows it.
  const workers = await createWorkers(loadWorkersConfig({ ...envFor('WORKERS', 4201), WORKER_ROLES: env['WORKER_ROLES'] ?? 'all' }));
  started.push(workers);

  const lines = [
    '',
    `GPUaaS is up (${((Date.now() - startedAt) / 1000).toFixed(1)} s; ${appliedCount} migration(s) applied, demo catalog and node sim-node-1 seeded)`,
    `  Node agent      sim-node-1 (simulated) ${demo.bootstrapToken ? 'registering with a fresh bootstrap token' : 'reusing its stored credential'}; state in ${agentDir}`,
    `  REST API        ${rest.url}/api/v1   (explorer ${rest.url}/docs)`,
    `  GraphQL         ${gateway.url}/graphql`,
    `  Subgraphs       access ${access!.url}  compute ${compute!.url}  billing ${billing!.url}  workloads ${workloads!.url}  platform ${platform!.url}`,
    `  Workers         ${workers.url}/readyz`,
    `  Agent (health)  ${agent.healthUrl}/readyz`,
    `  Database        ${redactUrl(databaseUrl)}`,
    ...operatorLines(operator),
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  logger.error({ err: error }, 'start failed');
  process.exit(1);
});

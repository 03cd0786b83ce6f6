/**
 * The platform in one process for a developer's machine (behind `npm start`): migrates and seeds the database,
 * starts the five subgraphs, the gateway, the REST adapter, the workers and one simulated node agent on their
 * default ports, prints the URLs, and closes everything in reverse order on Ctrl-C. Production runs each of
 * these as its own process through its `main.ts`.
 */
import pg from 'pg';
import { redactUrl } from '@gpuaas/db';
import { closeOnSignals, type Closeable } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { createAccessSubgraph, loadAccessConfig } from '../subgraphs/access/src/index.js';
import { createComputeSubgraph, loadComputeConfig } from '../subgraphs/compute/src/index.js';
import { createBillingSubgraph, loadBillingConfig } from '../subgraphs/billing/src/index.js';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '../subgraphs/workloads/src/index.js';
import { createPlatformSubgraph, loadPlatformConfig } from '../subgraphs/platform/src/index.js';
import { seedDemoCatalog } from '../subgraphs/compute/src/seed/demo-catalog.js';
import { seedDemoOsImages } from '../subgraphs/platform/src/seed/demo-os-images.js';
import { createGateway, loadGatewayConfig } from '../gateway/src/index.js';
import { createRestAdapter, loadRestAdapterConfig } from '../rest-adapter/src/index.js';
import { createWorkers, loadWorkersConfig } from '../workers/src/index.js';
import { createAgent, loadAgentConfig } from '../agent/src/index.js';
import { DEFAULT_DATABASE_URL, migrateAll } from './migrate.js';

const logger = createLogger('dev', 'info');
const env = process.env;
const host = env['HOST'] ?? '127.0.0.1';
const databaseUrl = env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;

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

async function main(): Promise<void> {
  const started: Closeable[] = [];
  closeOnSignals(logger, started);
  const startedAt = Date.now();

  const applied = await migrateAll(databaseUrl);
  const appliedCount = applied.reduce((sum, set) => sum + set.applied.length, 0);
  await seed();

  const subgraphs = await Promise.all([
    createAccessSubgraph(loadAccessConfig(envFor('ACCESS', 4101))),
    createComputeSubgraph(loadComputeConfig(envFor('COMPUTE', 4102))),
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
  const rest = await createRestAdapter(loadRestAdapterConfig({ ...envFor('REST', 4000), GATEWAY_URL: `${gateway.url}/graphql` }));
  started.push(rest);
  const workers = await createWorkers(loadWorkersConfig(envFor('WORKERS', 4201)));
  started.push(workers);
  const agent = await createAgent(
    loadAgentConfig([], { ...envFor('AGENT', 4301), HEALTH_HOST: host, HEALTH_PORT: env['AGENT_PORT'] ?? '4301', CONTROL_PLANE_URL: rest.url, BOOTSTRAP_TOKEN: env['BOOTSTRAP_TOKEN'] ?? 'demo-node-bootstrap' }),
  );
  started.push(agent);

  const lines = [
    '',
    `GPUaaS is up (${((Date.now() - startedAt) / 1000).toFixed(1)} s; ${appliedCount} migration(s) applied, demo catalog and node sim-node-1 seeded)`,
    `  REST API        ${rest.url}/api/v1   (explorer ${rest.url}/docs)`,
    `  GraphQL         ${gateway.url}/graphql`,
    `  Subgraphs       access ${access!.url}  compute ${compute!.url}  billing ${billing!.url}  workloads ${workloads!.url}  platform ${platform!.url}`,
    `  Workers         ${workers.url}/readyz`,
    `  Agent (health)  ${agent.healthUrl}/readyz`,
    `  Database        ${redactUrl(databaseUrl)}`,
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  logger.error({ err: error }, 'start failed');
  process.exit(1);
});

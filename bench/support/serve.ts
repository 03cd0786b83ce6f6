/**
 * One deployable (or the five subgraphs) in its own process for the benchmark, configured from the environment the
 * bench passes, exactly as its main.ts would be. Prints `READY <json urls>` once listening; SIGTERM closes it.
 */
import { createAccessSubgraph, loadAccessConfig } from '@gpuaas/subgraph-access';
import { createBillingSubgraph, loadBillingConfig } from '@gpuaas/subgraph-billing';
import { createComputeSubgraph, loadComputeConfig } from '@gpuaas/subgraph-compute';
import { createPlatformSubgraph, loadPlatformConfig } from '@gpuaas/subgraph-platform';
import { createWorkloadsSubgraph, loadWorkloadsConfig } from '@gpuaas/subgraph-workloads';
import { createGateway, loadGatewayConfig } from '@gpuaas/gateway';
import { createRestAdapter, loadRestAdapterConfig } from '@gpuaas/rest-adapter';
import { createWorkers, loadWorkersConfig } from '@gpuaas/workers';
import { closeOnSignals, configOrExit, type Closeable } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';

const role = process.argv[2];
const env = process.env;
const logger = createLogger(`bench-${role ?? 'unknown'}`, 'warn');
const started: Closeable[] = [];
closeOnSignals(logger, started);

async function serve(): Promise<Record<string, string>> {
  initTracing({ serviceName: role ?? 'bench' });
  switch (role) {
    case 'subgraphs': {
      const services = {
        access: await createAccessSubgraph(configOrExit(() => loadAccessConfig(env))),
        compute: await createComputeSubgraph(configOrExit(() => loadComputeConfig(env))),
        billing: await createBillingSubgraph(configOrExit(() => loadBillingConfig(env))),
        workloads: await createWorkloadsSubgraph(configOrExit(() => loadWorkloadsConfig(env))),
        platform: await createPlatformSubgraph(configOrExit(() => loadPlatformConfig(env))),
      };
      started.push(...Object.values(services));
      return Object.fromEntries(Object.entries(services).map(([name, service]) => [name, service.url]));
    }
    case 'gateway': {
      // BENCH_GATEWAY_FRONT=off serves every /graphql request through Express, to measure the node:http front against it.
      const gateway = await createGateway(configOrExit(() => loadGatewayConfig(env)), { graphqlFront: env['BENCH_GATEWAY_FRONT'] !== 'off' });
      started.push(gateway);
      return { gateway: gateway.url };
    }
    case 'rest': {
      const rest = await createRestAdapter(configOrExit(() => loadRestAdapterConfig(env)));
      started.push(rest);
      return { rest: rest.url };
    }
    case 'workers': {
      const workers = await createWorkers(configOrExit(() => loadWorkersConfig(env)));
      started.push(workers);
      return { workers: 'started' };
    }
    default:
      throw new Error(`unknown role "${role}"; expected subgraphs, gateway, rest or workers`);
  }
}

process.stdout.write(`READY ${JSON.stringify(await serve())}\n`);

import { closeOnSignals, configOrExit } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';
import { loadWorkloadsConfig } from './config.js';
import { createWorkloadsSubgraph } from './server.js';

const config = configOrExit(() => loadWorkloadsConfig());
initTracing({ serviceName: 'subgraph-workloads' });
const service = await createWorkloadsSubgraph(config);
closeOnSignals(createLogger('subgraph-workloads', config.logLevel), [service]);

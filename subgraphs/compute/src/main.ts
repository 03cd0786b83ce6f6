import { closeOnSignals, configOrExit } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';
import { loadComputeConfig } from './config.js';
import { createComputeSubgraph } from './server.js';

const config = configOrExit(() => loadComputeConfig());
initTracing({ serviceName: 'subgraph-compute' });
const service = await createComputeSubgraph(config);
closeOnSignals(createLogger('subgraph-compute', config.logLevel), [service]);

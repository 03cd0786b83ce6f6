import { closeOnSignals, configOrExit } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';
import { loadAccessConfig } from './config.js';
import { createAccessSubgraph } from './server.js';

const config = configOrExit(() => loadAccessConfig());
initTracing({ serviceName: 'subgraph-access' });
const service = await createAccessSubgraph(config);
closeOnSignals(createLogger('subgraph-access', config.logLevel), [service]);

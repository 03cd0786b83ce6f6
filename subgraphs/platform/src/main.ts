import { closeOnSignals, configOrExit } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';
import { loadPlatformConfig } from './config.js';
import { createPlatformSubgraph } from './server.js';

const config = configOrExit(() => loadPlatformConfig());
initTracing({ serviceName: 'subgraph-platform' });
const service = await createPlatformSubgraph(config);
closeOnSignals(createLogger('subgraph-platform', config.logLevel), [service]);

import { closeOnSignals, configOrExit } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';
import { loadBillingConfig } from './config.js';
import { createBillingSubgraph } from './server.js';

const config = configOrExit(() => loadBillingConfig());
initTracing({ serviceName: 'subgraph-billing' });
const service = await createBillingSubgraph(config);
closeOnSignals(createLogger('subgraph-billing', config.logLevel), [service]);

import { closeOnSignals, configOrExit } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';
import { loadWorkersConfig } from './config.js';
import { createWorkers } from './server.js';

const config = configOrExit(() => loadWorkersConfig());
initTracing({ serviceName: 'workers' });
const workers = await createWorkers(config);
closeOnSignals(createLogger('workers', config.logLevel), [workers]);

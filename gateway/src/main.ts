import { closeOnSignals, configOrExit } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';
import { loadGatewayConfig } from './config.js';
import { createGateway } from './server.js';

const config = configOrExit(() => loadGatewayConfig());
initTracing({ serviceName: 'gateway' });
const gateway = await createGateway(config);
closeOnSignals(createLogger('gateway', config.logLevel), [gateway]);

import { closeOnSignals, configOrExit } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';
import { createAgent } from './agent.js';
import { agentUsage, loadAgentConfig } from './config.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(agentUsage);
  process.exit(0);
}
const config = configOrExit(() => loadAgentConfig());
initTracing({ serviceName: 'agent' });
const agent = await createAgent(config);
closeOnSignals(createLogger('agent', config.logLevel), [agent]);

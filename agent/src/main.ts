import { closeOnSignals, configOrExit } from '@gpuaas/service-kit';
import { createLogger, initTracing } from '@gpuaas/telemetry';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createAgent } from './agent.js';
import { agentUsage, loadAgentConfig } from './config.js';
import { registerTerminal } from './terminal/index.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(agentUsage);
  process.exit(0);
}
const config = configOrExit(() => loadAgentConfig());
initTracing({ serviceName: 'agent' });
const agent = createAgent(config);
// Shells of allocations live beside the state file (or under the system's temp dir without one).
const terminals = registerTerminal(agent, { dataDir: config.stateFile ? dirname(config.stateFile) : join(tmpdir(), 'gpuaas-agent'), logger: createLogger('agent-terminal', config.logLevel) });
await agent.start();
closeOnSignals(createLogger('agent', config.logLevel), [terminals, agent]);
await agent.done;
// Stopped by itself (revoked credential, refused registration): exit non-zero so a supervisor notices.
if (agent.stopReason) process.exit(1);

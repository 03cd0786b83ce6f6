import { ConfigError } from '@gpuaas/config';
import { closeOnSignals } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { loadRestAdapterConfig } from './config.js';
import { createRestAdapter } from './server.js';

try {
  const config = loadRestAdapterConfig(process.env);
  const logger = createLogger('rest-adapter', config.logLevel);
  const adapter = await createRestAdapter(config, { logger });
  closeOnSignals(logger, [adapter]);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78); // EX_CONFIG
}

import type { AgentConfig } from '../config.js';
import type { GpuDriver } from './driver.js';
import { createNvidiaDriver } from './nvidia/nvidia-driver.js';
import { createSimulatedDriver } from './simulated/simulated-driver.js';

/** The driver the configuration names. */
export function createDriver(config: Pick<AgentConfig, 'driver' | 'hostname' | 'simulated'>): GpuDriver {
  if (config.driver === 'nvidia') return createNvidiaDriver();
  return createSimulatedDriver({
    hostSeed: config.hostname,
    ...(config.simulated.layout ? { layout: config.simulated.layout } : {}),
    provisionDelayMs: config.simulated.provisionDelayMs,
    failureRate: config.simulated.failureRate,
  });
}

import { createHttpService, type ReadinessCheck } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import type { AgentConfig } from './config.js';

export interface Agent {
  /** Base URL of the agent's health server (`/healthz`, `/readyz`, `/metrics`). */
  readonly healthUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the node agent. For now it only serves health: ready means the control plane answers. Registration, the
 * task long-poll and the drivers arrive in a later issue.
 */
export async function createAgent(config: AgentConfig): Promise<Agent> {
  const logger = createLogger('agent', config.logLevel);
  const health = await createHttpService({
    name: 'agent',
    host: config.healthHost,
    port: config.healthPort,
    logger,
    readiness: { control_plane: controlPlaneReachable(config.controlPlaneUrl) },
  });
  logger.info({ control_plane: config.controlPlaneUrl, driver: config.driver }, 'agent started');
  return { healthUrl: health.url, close: () => health.close() };
}

function controlPlaneReachable(controlPlaneUrl: string, timeoutMs = 1500): ReadinessCheck {
  return async () => {
    const response = await fetch(`${controlPlaneUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`control plane /healthz answered ${response.status}`);
  };
}

import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@gpuaas/config';
import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { createAgent, loadAgentConfig, type AgentConfig } from '../src/index.js';

function agentConfig(controlPlaneUrl: string): AgentConfig {
  return {
    nodeEnv: 'test',
    logLevel: 'silent',
    controlPlaneUrl,
    bootstrapToken: 'bootstrap-token-under-test',
    driver: 'simulated',
    healthHost: '127.0.0.1',
    healthPort: 0,
  };
}

async function readiness(url: string) {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks: Record<string, { status: string; error?: string }> } };
}

let controlPlane: HttpService;

beforeAll(async () => {
  controlPlane = await createHttpService({ name: 'control-plane', host: '127.0.0.1', port: 0, logger: createLogger('control-plane', 'silent') });
});

afterAll(async () => {
  await controlPlane?.close();
});

describe('agent health', () => {
  it('is ready while the control plane answers', async () => {
    const agent = await createAgent(agentConfig(controlPlane.url));
    try {
      expect((await fetch(`${agent.healthUrl}/healthz`)).status).toBe(200);
      const { status, body } = await readiness(agent.healthUrl);
      expect(status).toBe(200);
      expect(body.checks['control_plane']).toEqual({ status: 'ok' });
    } finally {
      await agent.close();
    }
  });

  it('is alive but not ready while the control plane is unreachable', async () => {
    const agent = await createAgent(agentConfig(`http://127.0.0.1:${await closedPort()}`));
    try {
      expect((await fetch(`${agent.healthUrl}/healthz`)).status).toBe(200);
      const { status, body } = await readiness(agent.healthUrl);
      expect(status).toBe(503);
      expect(body.checks['control_plane']?.status).toBe('failing');
    } finally {
      await agent.close();
    }
  });

  it('is not ready while the control plane answers with an error', async () => {
    // Under this base path the control plane has no /healthz and answers 404.
    const agent = await createAgent(agentConfig(`${controlPlane.url}/nowhere`));
    try {
      const { status, body } = await readiness(agent.healthUrl);
      expect(status).toBe(503);
      expect(body.checks['control_plane']?.error).toMatch(/answered 404/);
    } finally {
      await agent.close();
    }
  });
});

describe('agent config', () => {
  it('takes options from flags over the environment', () => {
    const config = loadAgentConfig(['--control-plane', 'http://cp.test:4000/', '--health-port', '0', '--driver', 'nvidia'], {
      CONTROL_PLANE_URL: 'http://ignored.test',
      BOOTSTRAP_TOKEN: 'from-env',
    });
    expect(config).toMatchObject({ controlPlaneUrl: 'http://cp.test:4000', bootstrapToken: 'from-env', driver: 'nvidia', healthPort: 0 });
  });

  it('defaults to the simulated driver and the agent health port', () => {
    const config = loadAgentConfig([], { CONTROL_PLANE_URL: 'http://cp.test', BOOTSTRAP_TOKEN: 't' });
    expect(config).toMatchObject({ driver: 'simulated', healthPort: 4301, healthHost: '127.0.0.1' });
  });

  it('lists every missing or wrong option at once', () => {
    try {
      loadAgentConfig(['--driver', 'amd'], {});
      expect.unreachable('loadAgentConfig should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const fields = (error as ConfigError).problems.map((problem) => problem.split(':')[0]).sort();
      expect(fields).toEqual(['AGENT_DRIVER', 'BOOTSTRAP_TOKEN', 'CONTROL_PLANE_URL']);
    }
  });

  it('refuses unknown flags', () => {
    expect(() => loadAgentConfig(['--control-plane-url', 'http://cp.test'], { BOOTSTRAP_TOKEN: 't' })).toThrow(ConfigError);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

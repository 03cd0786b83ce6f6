import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '@gpuaas/config';
import { createAgent, createSimulatedDriver, loadAgentConfig, type Agent, type AgentConfig, type AgentOptions } from '../src/index.js';
import { eventually, startFakeControlPlane, type FakeControlPlane } from './support/fake-control-plane.js';

const hostname = 'sim-node-test';

function agentOptions(controlPlaneUrl: string, overrides: Partial<AgentOptions> = {}): AgentOptions {
  const config: AgentConfig = {
    nodeEnv: 'test',
    logLevel: (process.env['AGENT_TEST_LOG'] ?? 'silent') as AgentConfig['logLevel'],
    controlPlaneUrl,
    bootstrapToken: 'unused',
    driver: 'simulated',
    hostname,
    maxConcurrentTasks: 1,
    telemetryIntervalSeconds: 1,
    simulated: { provisionDelayMs: 0, failureRate: 0 },
    healthHost: '127.0.0.1',
    healthPort: 0,
  };
  return { ...config, backoff: { initialMs: 20, maxMs: 100 }, ...overrides };
}

let plane: FakeControlPlane;
let dir: string;
const agents: Agent[] = [];

beforeEach(async () => {
  plane = await startFakeControlPlane({ hostname });
  dir = await mkdtemp(join(tmpdir(), 'agent-test-'));
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.stop()));
  await plane.close();
  await rm(dir, { recursive: true, force: true });
  expect(plane.violations).toEqual([]);
});

function start(overrides: Partial<AgentOptions> = {}): Agent {
  const agent = createAgent(agentOptions(plane.url, { bootstrapToken: plane.bootstrapToken, stateFile: join(dir, 'state.json'), ...overrides }));
  agents.push(agent);
  void agent.start();
  return agent;
}

const count = (operationId: string) => plane.calls.filter((call) => call.operationId === operationId).length;

describe('agent against a contract-validating control plane', () => {
  it('registers with the bootstrap token, stores the credential and heartbeats with it', async () => {
    const agent = start();
    expect(await agent.whenRegistered()).toBe(plane.nodeId);
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { nodeId: string; nodeCredential: string };
    expect(state).toMatchObject({ nodeId: plane.nodeId, nodeCredential: plane.credential });
    expect((await stat(join(dir, 'state.json'))).mode & 0o077).toBe(0);
    await eventually(() => count('sendNodeHeartbeat') >= 1);
    const register = plane.calls.find((call) => call.operationId === 'registerNode')!;
    expect(register.body).toMatchObject({ hostname, driver: 'simulated', capabilities: { max_concurrent_tasks: 1 } });
    expect((register.body as { capabilities: { gpus: unknown[] } }).capabilities.gpus).toHaveLength(3);
    expect(agent.nodeState).toBe('active');
  });

  it('reuses the stored credential after a restart instead of registering again', async () => {
    const first = start();
    await first.whenRegistered();
    await first.stop();
    const second = start({ bootstrapToken: 'a-token-that-would-be-refused' });
    expect(await second.whenRegistered()).toBe(plane.nodeId);
    await eventually(() => count('sendNodeHeartbeat') >= 2);
    expect(count('registerNode')).toBe(1);
  });

  it('retries registration with backoff while the control plane fails, with one idempotency key', async () => {
    plane.failNext('registerNode', 503, 2);
    const agent = start();
    await agent.whenRegistered();
    const keys = plane.calls.filter((call) => call.operationId === 'registerNode').map((call) => call.headers['x-idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
  });

  it('stops and says why when the bootstrap token is refused', async () => {
    const agent = start({ bootstrapToken: 'bt_wrong_token_of_enough_length_000000' });
    await expect(agent.whenRegistered()).rejects.toThrow(/Registration refused \(401 unauthenticated/);
    await agent.done;
    expect(agent.status).toBe('rejected');
    expect(count('registerNode')).toBe(1);
  });

  it('discovers the slice topology, provisions, reports telemetry and releases through the driver', async () => {
    const driver = createSimulatedDriver({ hostSeed: hostname, seed: 1 });
    const agent = start({ gpuDriver: driver });
    await agent.whenRegistered();

    const discover = plane.offer({ kind: 'discover_slice_topology', allocation_id: null, payload: {} });
    const discovered = await eventually(() => plane.resultFor(discover.task_id));
    const topology = (discovered.body as { result: { gpus: { mig_mode: string; instances: { profile: string; placement: { start: number } }[] }[] } }).result;
    expect(topology.gpus.map((gpu) => [gpu.mig_mode, gpu.instances.length])).toEqual([['enabled', 7], ['enabled', 7], ['disabled', 0]]);
    expect(topology.gpus[0]!.instances.map((instance) => instance.placement.start)).toEqual([0, 1, 2, 3, 4, 5, 6]);

    const allocationId = '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a7b';
    const slice = driver.gpus[0]!.instances[2]!;
    const provision = plane.offer({
      kind: 'provision',
      allocation_id: allocationId,
      fencing_token: 3,
      payload: { gpu_uuid: driver.gpus[0]!.uuid, mig_uuid: slice.migUuid, slice_profile: '1g.10gb', os_image: 'ubuntu-22.04', ssh_public_keys: ['ssh-ed25519 AAAA test'] },
    });
    const provisioned = await eventually(() => plane.resultFor(provision.task_id));
    expect(provisioned.body).toMatchObject({ fencing_token: 3, outcome: 'succeeded', result: { ssh_host: '127.0.0.1', ssh_user: 'ubuntu' } });

    const batch = await eventually(() => plane.calls.find((call) => call.operationId === 'ingestGuestTelemetry'), 4000);
    expect(batch.body).toMatchObject({ node_id: plane.nodeId, samples: [{ allocation_id: allocationId, gpu_uuid: driver.gpus[0]!.uuid, mig_uuid: slice.migUuid }] });
    await eventually(() => plane.calls.some((call) => call.operationId === 'sendNodeHeartbeat' && (call.body as { running_allocation_ids: string[] }).running_allocation_ids.includes(allocationId)), 4000);

    const release = plane.offer({ kind: 'release', allocation_id: allocationId, payload: { reason: 'user_requested' } });
    expect((await eventually(() => plane.resultFor(release.task_id))).body).toMatchObject({ outcome: 'succeeded', result: {} });
    expect(await driver.running()).toEqual([]);
  });

  it('reports a driver failure as a failed task with its code, and a task kind it cannot run as not_supported', async () => {
    const agent = start();
    await agent.whenRegistered();
    const provision = plane.offer({ kind: 'provision', allocation_id: '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a70', payload: { gpu_uuid: 'GPU-00000000-0000-0000-0000-000000000000', slice_profile: 'whole', os_image: 'ubuntu', ssh_public_keys: [] } });
    expect((await eventually(() => plane.resultFor(provision.task_id))).body).toMatchObject({ outcome: 'failed', result: null, error: { code: 'device_not_found' } });
    const terminal = plane.offer({ kind: 'open_terminal', allocation_id: '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a70', payload: { terminal_session_id: 'x' } });
    expect((await eventually(() => plane.resultFor(terminal.task_id))).body).toMatchObject({ outcome: 'failed', error: { code: 'not_supported' } });
  });

  it('runs a task kind through a handler registered from outside (the terminal hook)', async () => {
    const agent = start();
    agent.registerTaskHandler('open_terminal', async (task, context) => ({ relay_session_id: `${context.nodeId}:${String(task.payload['terminal_session_id'])}` }));
    await agent.whenRegistered();
    const terminal = plane.offer({ kind: 'open_terminal', allocation_id: '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a71', payload: { terminal_session_id: 'abc' } });
    expect((await eventually(() => plane.resultFor(terminal.task_id))).body).toMatchObject({ outcome: 'succeeded', result: { relay_session_id: `${plane.nodeId}:abc` } });
  });

  it('serves terminals when given a data directory, and says so at registration', async () => {
    const agent = start({ dataDir: join(dir, 'data') });
    await agent.whenRegistered();
    const register = plane.calls.find((call) => call.operationId === 'registerNode')!;
    expect(register.body).toMatchObject({ capabilities: { terminal: true } });
    // The terminal module answers a malformed task itself (not `not_supported`).
    const terminal = plane.offer({ kind: 'open_terminal', allocation_id: '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a72', payload: { terminal_session_id: 'not-a-uuid' } });
    expect((await eventually(() => plane.resultFor(terminal.task_id))).body).toMatchObject({ outcome: 'failed', error: { code: 'invalid_payload' } });
  });

  it('provisions from a payload that names the placed slot instead of the device', async () => {
    const driver = createSimulatedDriver({ hostSeed: hostname, seed: 1 });
    const agent = start({ gpuDriver: driver });
    await agent.whenRegistered();
    const slice = driver.gpus[1]!.instances[4]!;
    const provision = plane.offer({
      kind: 'provision',
      allocation_id: '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a73',
      payload: {
        slot: { slot_id: '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a74', gpu_uuid: driver.gpus[1]!.uuid, gpu_instance_id: slice.gpuInstanceId, compute_instance_id: 0, profile: '1g.10gb' },
        os_image: { id: '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a75', name: 'Ubuntu 22.04', version: '2026.11' },
        ssh_public_keys: [{ id: '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a76', public_key: 'ssh-ed25519 AAAA test', fingerprint: 'SHA256:x' }],
      },
    });
    expect((await eventually(() => plane.resultFor(provision.task_id))).body).toMatchObject({
      outcome: 'succeeded',
      result: { ssh_host: '127.0.0.1', ssh_access: { host: '127.0.0.1', username: 'ubuntu' } },
    });
    expect(await driver.running()).toEqual([{ allocationId: '0193a1c2-4d5e-7f60-8a1b-2c3d4e5f6a73', gpuUuid: driver.gpus[1]!.uuid, migUuid: slice.migUuid }]);
  });

  it('stops and says why when it has neither a stored credential nor a bootstrap token', async () => {
    const agent = start({ bootstrapToken: undefined });
    await expect(agent.whenRegistered()).rejects.toThrow(/no bootstrap token/);
    expect(agent.status).toBe('rejected');
    expect(count('registerNode')).toBe(0);
  });

  it('keeps posting a result through transient failures with the same body and key', async () => {
    const agent = start();
    await agent.whenRegistered();
    plane.failNext('reportNodeTaskResult', 503, 2);
    const discover = plane.offer({ kind: 'discover_slice_topology', allocation_id: null, payload: {} });
    await eventually(() => plane.calls.filter((call) => call.operationId === 'reportNodeTaskResult').length >= 3);
    const posts = plane.calls.filter((call) => call.operationId === 'reportNodeTaskResult');
    expect(new Set(posts.map((call) => JSON.stringify(call.body))).size).toBe(1);
    expect(posts.every((call) => call.headers['x-idempotency-key'] === `task-result-${discover.task_id}-1`)).toBe(true);
  });

  it('stops and says so when its credential is revoked', async () => {
    const agent = start();
    await agent.whenRegistered();
    plane.revoke();
    await agent.done;
    expect(agent.status).toBe('revoked');
    expect(agent.stopReason).toMatch(/rejected the node credential/);
  });

  it('serves health and is ready only once registered', async () => {
    const agent = start({ bootstrapToken: 'bt_wrong_token_of_enough_length_000000' });
    await expect(agent.whenRegistered()).rejects.toThrow();
    await agent.done;
    const other = start();
    await other.whenRegistered();
    const ready = await fetch(`${other.healthUrl}/readyz`);
    expect(ready.status).toBe(200);
  });
});

describe('agent config', () => {
  it('takes options from flags over the environment', () => {
    const config = loadAgentConfig(['--control-plane', 'http://cp.test:4000/', '--health-port', '0', '--driver', 'nvidia', '--state-file', '/var/lib/agent.json', '--hostname', 'GPU-01'], {
      CONTROL_PLANE_URL: 'http://ignored.test',
      BOOTSTRAP_TOKEN: 'from-env',
    });
    expect(config).toMatchObject({ controlPlaneUrl: 'http://cp.test:4000', bootstrapToken: 'from-env', driver: 'nvidia', healthPort: 0, stateFile: '/var/lib/agent.json', hostname: 'gpu-01' });
  });

  it('parses a simulated layout and its behaviour knobs', () => {
    const config = loadAgentConfig(['--simulated-layout', '{"gpus":[{"count":2,"mig":["3g.40gb","3g.40gb"]}]}'], {
      CONTROL_PLANE_URL: 'http://cp.test',
      BOOTSTRAP_TOKEN: 't',
      SIMULATED_PROVISION_DELAY_MS: '250',
      SIMULATED_FAILURE_RATE: '0.5',
    });
    expect(config.simulated).toMatchObject({ provisionDelayMs: 250, failureRate: 0.5, layout: { gpus: [{ count: 2, mig: ['3g.40gb', '3g.40gb'] }] } });
  });

  it('defaults to the simulated driver and the agent health port', () => {
    const config = loadAgentConfig([], { CONTROL_PLANE_URL: 'http://cp.test', BOOTSTRAP_TOKEN: 't' });
    expect(config).toMatchObject({ driver: 'simulated', healthPort: 4301, healthHost: '127.0.0.1' });
    expect(config.stateFile).toBeUndefined();
  });

  it('lists every missing or wrong option at once', () => {
    try {
      loadAgentConfig(['--driver', 'amd', '--simulated-layout', '{"gpus":[]}'], {});
      expect.unreachable('loadAgentConfig should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const fields = (error as ConfigError).problems.map((problem) => problem.split(':')[0]).sort();
      expect(fields).toEqual(['AGENT_DRIVER', 'BOOTSTRAP_TOKEN', 'CONTROL_PLANE_URL', 'SIMULATED_LAYOUT']);
    }
  });

  it('needs no bootstrap token when a state file may hold the credential', () => {
    const config = loadAgentConfig(['--state-file', '/var/lib/agent.json', '--data-dir', '/var/lib/agent'], { CONTROL_PLANE_URL: 'http://cp.test' });
    expect(config).toMatchObject({ stateFile: '/var/lib/agent.json', dataDir: '/var/lib/agent' });
    expect(config.bootstrapToken).toBeUndefined();
    expect(() => loadAgentConfig([], { CONTROL_PLANE_URL: 'http://cp.test' })).toThrow(/BOOTSTRAP_TOKEN/);
  });

  it('refuses unknown flags', () => {
    expect(() => loadAgentConfig(['--control-plane-url', 'http://cp.test'], { BOOTSTRAP_TOKEN: 't' })).toThrow(ConfigError);
  });
});

import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { randomUUID } from 'node:crypto';
import { createHttpService, type HttpService, type ReadinessCheck } from '@gpuaas/service-kit';
import { createLogger, type Logger } from '@gpuaas/telemetry';
import { createBackoff, sleep, type BackoffOptions } from './backoff.js';
import { registerBuiltinHandlers } from './builtin-handlers.js';
import type { AgentConfig } from './config.js';
import { ControlPlaneError, createControlPlaneClient, type AgentTask, type HeartbeatResponse, type TaskResultRequest, type TelemetrySample } from './control-plane/client.js';
import { createDriver } from './drivers/create-driver.js';
import { DriverError, type GpuDriver } from './drivers/driver.js';
import { readAgentState, writeAgentState, type AgentState } from './state-file.js';
import { TaskHandlerRegistry, type TaskHandler, type TaskKind } from './task-handlers.js';
import type { TerminalHost } from './terminal/index.js';
import { AGENT_VERSION } from './version.js';

export type AgentStatus = 'idle' | 'registering' | 'running' | 'stopped' | 'revoked' | 'rejected';

export interface AgentOptions extends AgentConfig {
  /** Overrides the driver `driver` names (tests pass a configured simulated one). */
  readonly gpuDriver?: GpuDriver;
  readonly logger?: Logger;
  readonly backoff?: Pick<BackoffOptions, 'initialMs' | 'maxMs'>;
  /** Skip the health server (in-process agents in tests and the dev launcher need none). */
  readonly healthServer?: boolean;
}

export interface Agent {
  /** Starts the health server and, in the background, registration and the loops. */
  start(): Promise<void>;
  /** Stops the loops (a running task is abandoned; its lease expires and it is offered again) and the health server. */
  stop(): Promise<void>;
  /** Same as stop(), for closeOnSignals. */
  close(): Promise<void>;
  /** Adds or replaces the handler of a task kind (the terminal module registers open_terminal/close_terminal). */
  registerTaskHandler(kind: TaskKind, handler: TaskHandler): void;
  /** The node id once registered (or read from the state file). */
  readonly nodeId: string | undefined;
  readonly status: AgentStatus;
  /** Why the agent stopped by itself (revoked credential, rejected bootstrap token), if it did. */
  readonly stopReason: string | undefined;
  /** The scheduling state the last heartbeat answered. */
  readonly nodeState: HeartbeatResponse['node_state'] | undefined;
  /** Base URL of the health server (`/healthz`, `/readyz`, `/metrics`); throws before start() or without one. */
  readonly healthUrl: string;
  /** Resolves with the node id once registered; rejects if the agent stops first. */
  whenRegistered(): Promise<string>;
  /** Resolves when the agent has stopped, by stop() or by itself. */
  readonly done: Promise<void>;
}

/** A fatal answer: the agent must stop instead of retrying. */
class FatalAgentError extends Error {
  constructor(
    readonly status: AgentStatus,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The node agent: registers with the bootstrap token (once; the credential is kept in the state file), then
 * heartbeats, long-polls for tasks and runs them through the driver, posts their results with the lease's fencing
 * token, and sends telemetry of running allocations. Connection errors back off exponentially with jitter; a
 * revoked credential or a rejected bootstrap token stops the agent with a reason.
 */
export function createAgent(options: AgentOptions): Agent {
  const logger = options.logger ?? createLogger('agent', options.logLevel);
  const driver = options.gpuDriver ?? createDriver(options);
  const handlers = registerBuiltinHandlers(new TaskHandlerRegistry());
  const stopController = new AbortController();
  const stopSignal = stopController.signal;
  let state: AgentState | undefined;
  let status: AgentStatus = 'idle';
  let stopReason: string | undefined;
  let nodeState: HeartbeatResponse['node_state'] | undefined;
  let heartbeatIntervalSeconds = 15;
  let health: HttpService | undefined;
  let terminals: TerminalHost | undefined;
  let running: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let registered: { resolve: (nodeId: string) => void; reject: (error: Error) => void } | undefined;
  const registeredPromise = new Promise<string>((resolve, reject) => (registered = { resolve, reject }));
  registeredPromise.catch(() => undefined);

  const client = createControlPlaneClient({ baseUrl: options.controlPlaneUrl, credential: () => state?.nodeCredential });
  const newBackoff = () => createBackoff(options.backoff);

  function fail(error: FatalAgentError) {
    if (stopSignal.aborted) return;
    status = error.status;
    stopReason = error.message;
    logger.error({ reason: error.message, node_id: state?.nodeId }, 'agent stopped');
    registered?.reject(error);
    stopController.abort();
  }

  /** Classifies an error of a node-credential call: fatal ones stop the agent, the rest are retried. */
  function fatalOf(error: unknown): FatalAgentError | undefined {
    if (error instanceof ControlPlaneError && error.status === 401) {
      return new FatalAgentError('revoked', `The control plane rejected the node credential (${error.code}: ${error.message}); the node was retired or its credential revoked. Register again with a new bootstrap token (adminIssueNodeBootstrapToken) after removing the state file.`);
    }
    return undefined;
  }

  async function loadOrRegister(): Promise<AgentState | undefined> {
    if (options.stateFile) {
      const saved = await readAgentState(options.stateFile);
      if (saved && saved.controlPlaneUrl === options.controlPlaneUrl) {
        logger.info({ node_id: saved.nodeId, state_file: options.stateFile }, 'using the stored node credential');
        return saved;
      }
      if (saved) logger.warn({ state_file: options.stateFile, stored: saved.controlPlaneUrl }, 'the state file belongs to another control plane; registering again');
    }
    const bootstrapToken = options.bootstrapToken;
    if (!bootstrapToken) {
      throw new FatalAgentError('rejected', 'No stored node credential and no bootstrap token: give BOOTSTRAP_TOKEN (adminIssueNodeBootstrapToken issues one).');
    }
    status = 'registering';
    const gpus = await driver.discover();
    const body = {
      hostname: options.hostname,
      agent_version: AGENT_VERSION,
      driver: driver.kind,
      capabilities: {
        gpus: gpus.map((gpu) => ({ uuid: gpu.uuid, index: gpu.index, name: gpu.name.slice(0, 128), memory_bytes: gpu.memoryBytes, mig_mode: gpu.migMode })),
        cpu_cores: Math.max(1, cpus().length),
        memory_bytes: totalmem(),
        terminal: handlers.has('open_terminal'),
        max_concurrent_tasks: options.maxConcurrentTasks,
      },
    };
    // One key for every retry of this registration: a lost answer is replayed instead of burning the token twice.
    const idempotencyKey = `register-${randomUUID()}`;
    const backoff = newBackoff();
    while (!stopSignal.aborted) {
      try {
        const registration = await client.register(bootstrapToken, body, idempotencyKey);
        const fresh: AgentState = {
          controlPlaneUrl: options.controlPlaneUrl,
          nodeId: registration.node_id,
          nodeCredential: registration.node_credential,
          region: registration.region,
          heartbeatIntervalSeconds: registration.heartbeat_interval_seconds,
          taskWaitMaxSeconds: registration.task_wait_max_seconds,
          taskLeaseSeconds: registration.task_lease_seconds,
          registeredAt: new Date().toISOString(),
        };
        if (options.stateFile) await writeAgentState(options.stateFile, fresh);
        logger.info({ node_id: fresh.nodeId, region: fresh.region, hostname: options.hostname }, 'node registered');
        return fresh;
      } catch (error) {
        if (error instanceof ControlPlaneError && error.status >= 400 && error.status < 500) {
          throw new FatalAgentError('rejected', `Registration refused (${error.status} ${error.code}: ${error.message}). Check the bootstrap token and that --hostname equals the node's hostname.`);
        }
        const waitMs = backoff.next();
        logger.warn({ err: (error as Error).message, retry_in_ms: waitMs }, 'registration failed; retrying');
        await sleep(waitMs, stopSignal);
      }
    }
    return undefined;
  }

  async function heartbeatLoop(nodeId: string) {
    const backoff = newBackoff();
    while (!stopSignal.aborted) {
      let waitMs = heartbeatIntervalSeconds * 1000;
      try {
        const allocations = await driver.running();
        const answer = await client.heartbeat(nodeId, {
          agent_status: 'ready',
          agent_version: AGENT_VERSION,
          sent_at: new Date().toISOString(),
          running_allocation_ids: [...new Set(allocations.map((allocation) => allocation.allocationId))].slice(0, 256),
          load: hostLoad(),
        });
        if (answer.node_state !== nodeState) logger.info({ node_state: answer.node_state }, 'node state');
        nodeState = answer.node_state;
        heartbeatIntervalSeconds = answer.heartbeat_interval_seconds;
        waitMs = heartbeatIntervalSeconds * 1000;
        backoff.reset();
      } catch (error) {
        const fatal = fatalOf(error);
        if (fatal) return fail(fatal);
        waitMs = Math.min(waitMs, backoff.next());
        logger.warn({ err: (error as Error).message, retry_in_ms: waitMs }, 'heartbeat failed');
      }
      await sleep(waitMs, stopSignal);
    }
  }

  async function taskLoop(nodeId: string, waitSeconds: number) {
    const backoff = newBackoff();
    while (!stopSignal.aborted) {
      let task: AgentTask | null;
      try {
        const signal = AbortSignal.any([stopSignal, AbortSignal.timeout((waitSeconds + 30) * 1000)]);
        task = await client.waitTask(nodeId, waitSeconds, signal);
        backoff.reset();
      } catch (error) {
        if (stopSignal.aborted) return;
        const fatal = fatalOf(error);
        if (fatal) return fail(fatal);
        const waitMs = backoff.next();
        logger.warn({ err: (error as Error).message, retry_in_ms: waitMs }, 'waiting for tasks failed');
        await sleep(waitMs, stopSignal);
        continue;
      }
      if (task) await runTask(nodeId, task);
    }
  }

  async function runTask(nodeId: string, task: AgentTask) {
    const taskLogger = logger.child({ task_id: task.task_id, kind: task.kind, allocation_id: task.allocation_id, attempt: task.attempt });
    const handler = handlers.get(task.kind);
    let body: TaskResultRequest;
    try {
      if (!handler) throw new DriverError('not_supported', `This agent does not run ${task.kind} tasks`);
      const context = { nodeId, driver, logger: taskLogger, signal: stopSignal, controlPlaneUrl: options.controlPlaneUrl, nodeCredential: () => state?.nodeCredential ?? '' };
      const result = await handler(task, context);
      body = { fencing_token: task.fencing_token, outcome: 'succeeded', result, error: null, finished_at: new Date().toISOString() };
    } catch (error) {
      // Stopping mid-task reports nothing: the lease runs out and the task is offered again to a running agent.
      if (stopSignal.aborted) return;
      // DriverError and handler errors (e.g. the terminal module's) carry a catalog-shaped code; others are agent_error.
      const candidate = (error as { code?: unknown }).code;
      const code = typeof candidate === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(candidate) ? candidate : 'agent_error';
      const message = (error as Error).message?.slice(0, 2000) || 'unknown error';
      taskLogger.warn({ code, err: message }, 'task failed');
      body = { fencing_token: task.fencing_token, outcome: 'failed', result: null, error: { code, message }, finished_at: new Date().toISOString() };
    }
    await reportResult(nodeId, task, body, taskLogger);
  }

  async function reportResult(nodeId: string, task: AgentTask, body: TaskResultRequest, taskLogger: Logger) {
    const backoff = newBackoff();
    while (!stopSignal.aborted) {
      try {
        const ack = await client.reportResult(nodeId, task.task_id, body);
        taskLogger.info({ outcome: body.outcome, duplicate: ack.duplicate }, 'task result recorded');
        return;
      } catch (error) {
        const fatal = fatalOf(error);
        if (fatal) return fail(fatal);
        if (error instanceof ControlPlaneError) {
          // 409 task_lease_stale: the task was re-offered under a newer token; 404: it is gone. Drop the work either way.
          taskLogger.warn({ status: error.status, code: error.code, err: error.message }, 'task result refused; dropping it');
          return;
        }
        const waitMs = backoff.next();
        taskLogger.warn({ err: (error as Error).message, retry_in_ms: waitMs }, 'posting the task result failed; retrying');
        await sleep(waitMs, stopSignal);
      }
    }
  }

  async function telemetryLoop(nodeId: string) {
    while (!stopSignal.aborted) {
      await sleep(options.telemetryIntervalSeconds * 1000, stopSignal);
      if (stopSignal.aborted) return;
      try {
        const samples = await telemetrySamples();
        for (let offset = 0; offset < samples.length; offset += 1000) {
          await client.sendTelemetry({ node_id: nodeId, samples: samples.slice(offset, offset + 1000) });
        }
      } catch (error) {
        const fatal = fatalOf(error);
        if (fatal) return fail(fatal);
        // Telemetry is best effort: the next batch carries fresh samples anyway.
        logger.debug({ err: (error as Error).message }, 'telemetry batch not delivered');
      }
    }
  }

  /** Samples of devices that run an allocation, labelled with it. */
  async function telemetrySamples(): Promise<TelemetrySample[]> {
    const allocations = await driver.running();
    if (allocations.length === 0) return [];
    const holder = new Map(allocations.map((allocation) => [`${allocation.gpuUuid}/${allocation.migUuid ?? ''}`, allocation.allocationId]));
    return (await driver.sample()).flatMap((sample) => {
      const allocationId = holder.get(`${sample.gpuUuid}/${sample.migUuid ?? ''}`);
      if (!allocationId) return [];
      return [{
        allocation_id: allocationId,
        gpu_uuid: sample.gpuUuid,
        mig_uuid: sample.migUuid,
        sampled_at: sample.sampledAt.toISOString(),
        gpu_utilization_percent: clamp(sample.gpuUtilizationPercent, 0, 100),
        memory_used_bytes: Math.max(0, Math.round(sample.memoryUsedBytes)),
        memory_total_bytes: Math.max(1, Math.round(sample.memoryTotalBytes)),
        temperature_celsius: sample.temperatureCelsius,
        power_watts: sample.powerWatts,
      }];
    });
  }

  /** Serves open_terminal with the terminal module; loaded only when wanted, since it brings a native PTY binding. */
  async function enableTerminals(dataDir: string) {
    const { registerTerminal } = await import('./terminal/index.js');
    terminals = registerTerminal({ registerTaskHandler: (kind, handler) => handlers.register(kind, handler) }, { dataDir, logger: logger.child({ component: 'terminal' }) });
  }

  async function run() {
    try {
      state = await loadOrRegister();
      if (!state || stopSignal.aborted) return;
      status = 'running';
      heartbeatIntervalSeconds = state.heartbeatIntervalSeconds;
      registered?.resolve(state.nodeId);
      const nodeId = state.nodeId;
      const waitSeconds = Math.max(1, Math.min(state.taskWaitMaxSeconds, 60));
      await Promise.all([
        heartbeatLoop(nodeId),
        telemetryLoop(nodeId),
        ...Array.from({ length: options.maxConcurrentTasks }, () => taskLoop(nodeId, waitSeconds)),
      ]);
    } catch (error) {
      fail(error instanceof FatalAgentError ? error : new FatalAgentError('stopped', `agent failed: ${(error as Error).message}`));
    } finally {
      if (status === 'running' || status === 'registering' || status === 'idle') status = 'stopped';
      registered?.reject(new Error(stopReason ?? 'the agent stopped before it registered'));
      // Open terminal sessions end with the agent; a relay that never acknowledges the close does not hold it up.
      if (terminals) await Promise.race([terminals.close(), sleep(2000, new AbortController().signal)]).catch(() => undefined);
      await health?.close().catch(() => undefined);
      health = undefined;
      resolveDone();
    }
  }

  return {
    async start() {
      if (running) return;
      if (options.dataDir && !terminals) await enableTerminals(options.dataDir);
      if (options.healthServer !== false) {
        health = await createHttpService({
          name: 'agent',
          host: options.healthHost,
          port: options.healthPort,
          logger,
          readiness: { control_plane: controlPlaneReachable(options.controlPlaneUrl), registration: () => registrationCheck(status, stopReason) },
        });
      }
      logger.info({ control_plane: options.controlPlaneUrl, driver: driver.kind, hostname: options.hostname }, 'agent started');
      running = run();
    },
    async stop() {
      stopController.abort();
      if (running) await running;
      else resolveDone();
      client.close();
      await health?.close();
      health = undefined;
    },
    close() {
      return this.stop();
    },
    registerTaskHandler(kind, handler) {
      handlers.register(kind, handler);
    },
    get nodeId() {
      return state?.nodeId;
    },
    get status() {
      return status;
    },
    get stopReason() {
      return stopReason;
    },
    get nodeState() {
      return nodeState;
    },
    get healthUrl() {
      // ci-allow canonical_error_guard: programming error in the caller, never reaches a client
      if (!health) throw new Error('the agent has no health server (not started, stopped, or started without one)');
      return health.url;
    },
    whenRegistered: () => registeredPromise,
    done,
  };
}

function registrationCheck(status: AgentStatus, reason: string | undefined): Promise<void> {
  // ci-allow canonical_error_guard: readiness detail shown on /readyz, not an API error
  if (status !== 'running') return Promise.reject(new Error(reason ?? `agent is ${status}`));
  return Promise.resolve();
}

function controlPlaneReachable(controlPlaneUrl: string, timeoutMs = 1500): ReadinessCheck {
  return async () => {
    const response = await fetch(`${controlPlaneUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    // ci-allow canonical_error_guard: readiness detail shown on /readyz, not an API error
    if (!response.ok) throw new Error(`control plane /healthz answered ${response.status}`);
  };
}

function hostLoad() {
  const cores = Math.max(1, cpus().length);
  const total = totalmem();
  return {
    cpu_percent: clamp(Math.round(((loadavg()[0] ?? 0) / cores) * 1000) / 10, 0, 100),
    memory_used_bytes: Math.max(0, total - freemem()),
    memory_total_bytes: total,
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

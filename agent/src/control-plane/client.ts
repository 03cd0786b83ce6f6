import type { ApiSchema } from '@gpuaas/contracts';
import { createHttpRequest, type RawResponse } from './http-request.js';

export type RegisterRequest = ApiSchema<'AgentNodeRegisterRequest'>;
export type Registration = ApiSchema<'AgentNodeRegistration'>;
export type HeartbeatRequest = ApiSchema<'AgentHeartbeatRequest'>;
export type HeartbeatResponse = ApiSchema<'AgentHeartbeatResponse'>;
export type AgentTask = ApiSchema<'AgentTask'>;
export type TaskResultRequest = ApiSchema<'AgentTaskResultRequest'>;
export type TaskResultAck = ApiSchema<'AgentTaskResultAck'>;
export type TelemetryBatch = ApiSchema<'AgentGuestTelemetryBatch'>;
export type TelemetryAccepted = ApiSchema<'AgentGuestTelemetryAccepted'>;
export type TelemetrySample = ApiSchema<'AgentGuestTelemetrySample'>;

/** The control plane answered with an error envelope (or a status the agent did not expect). */
export class ControlPlaneError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

/** The control plane could not be reached or answered garbage; worth retrying with backoff. */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface ControlPlaneClient {
  register(bootstrapToken: string, body: RegisterRequest, idempotencyKey: string): Promise<Registration>;
  heartbeat(nodeId: string, body: HeartbeatRequest): Promise<HeartbeatResponse>;
  /** Null when no task arrived within the wait (204). */
  waitTask(nodeId: string, waitSeconds: number, signal: AbortSignal): Promise<AgentTask | null>;
  reportResult(nodeId: string, taskId: string, body: TaskResultRequest): Promise<TaskResultAck>;
  sendTelemetry(body: TelemetryBatch): Promise<TelemetryAccepted>;
  /** Closes the kept-alive connections (calls still in flight end with them). */
  close(): void;
}

export interface ControlPlaneClientOptions {
  readonly baseUrl: string;
  /** The node credential, read on every call so a fresh registration takes effect at once. */
  readonly credential: () => string | undefined;
  /** Longest time any call other than the long-poll may take. */
  readonly requestTimeoutMs?: number;
}

/** HTTP client of the contract's /internal/v1 operations, typed by the generated OpenAPI types. */
export function createControlPlaneClient(options: ControlPlaneClientOptions): ControlPlaneClient {
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const send = createHttpRequest();

  async function call<T>(method: 'GET' | 'POST', path: string, init: { token?: string; body?: unknown; idempotencyKey?: string; signal?: AbortSignal; expect: number[] }): Promise<{ status: number; body: T | undefined }> {
    const token = init.token ?? options.credential();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.idempotencyKey) headers['x-idempotency-key'] = init.idempotencyKey;
    const signal = init.signal ?? AbortSignal.timeout(timeoutMs);
    let response: RawResponse;
    try {
      response = await send(`${options.baseUrl}${path}`, { method, headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }), signal });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new TransportError(`${method} ${path}: ${(error as Error).message}`);
    }
    const text = response.text;
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      throw new TransportError(`${method} ${path} answered ${response.status} with a body that is not JSON`);
    }
    if (init.expect.includes(response.status)) return { status: response.status, body: body as T };
    const envelope = (body ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof envelope.code === 'string' ? envelope.code : `http_${response.status}`;
    const message = typeof envelope.message === 'string' ? envelope.message : `${method} ${path} answered ${response.status}`;
    // Gateways and load balancers answer 502-504 while the control plane restarts: retry those like a lost connection.
    if (response.status >= 502 && response.status <= 504) throw new TransportError(`${method} ${path}: ${response.status} ${message}`);
    throw new ControlPlaneError(response.status, code, message);
  }

  return {
    async register(bootstrapToken, body, idempotencyKey) {
      const { body: registration } = await call<Registration>('POST', '/internal/v1/nodes/register', { token: bootstrapToken, body, idempotencyKey, expect: [201] });
      return registration!;
    },
    async heartbeat(nodeId, body) {
      const { body: answer } = await call<HeartbeatResponse>('POST', `/internal/v1/nodes/${nodeId}/heartbeat`, { body, expect: [200] });
      return answer!;
    },
    async waitTask(nodeId, waitSeconds, signal) {
      const { status, body } = await call<AgentTask>('GET', `/internal/v1/nodes/${nodeId}/tasks/wait?wait_seconds=${waitSeconds}`, { signal, expect: [200, 204] });
      return status === 200 ? body! : null;
    },
    async reportResult(nodeId, taskId, body) {
      // One key per (task, fencing token): a retried post after a lost answer replays instead of conflicting.
      const idempotencyKey = `task-result-${taskId}-${body.fencing_token}`;
      const { body: ack } = await call<TaskResultAck>('POST', `/internal/v1/nodes/${nodeId}/tasks/${taskId}/result`, { body, idempotencyKey, expect: [200] });
      return ack!;
    },
    async sendTelemetry(body) {
      const { body: accepted } = await call<TelemetryAccepted>('POST', '/internal/v1/guest-telemetry', { body, expect: [202] });
      return accepted!;
    },
    close() {
      send.close();
    },
  };
}

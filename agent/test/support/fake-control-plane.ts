import { randomUUID } from 'node:crypto';
import express, { type Request as ExpressRequest, type Response as ExpressResponse } from 'express';
import type { Request as OpenApiRequest } from 'openapi-backend';
import { createHttpService, type HttpService } from '@gpuaas/service-kit';
import { createLogger } from '@gpuaas/telemetry';
import { loadContract } from '@gpuaas/rest-adapter/contract';
import { assertResponseMatchesContract } from '@gpuaas/rest-adapter/testing';
// Test-only reach into the adapter: the same openapi-backend set-up it validates real requests with.
import { buildOpenApiBackend } from '../../../rest-adapter/src/contract/openapi-backend.js';
import type { AgentTask } from '../../src/index.js';

export interface RecordedCall {
  readonly operationId: string;
  readonly body: unknown;
  readonly headers: Record<string, string | string[] | undefined>;
}

/**
 * A loopback stand-in for the rest-adapter's /internal/v1 API: every request the agent sends is validated against
 * the OpenAPI contract (a violation is recorded and answered 400) and every answer is checked against it too.
 */
export interface FakeControlPlane {
  readonly url: string;
  readonly bootstrapToken: string;
  readonly nodeId: string;
  readonly calls: RecordedCall[];
  readonly violations: string[];
  credential: string;
  /** Queue a task for the node; a held long-poll answers at once. */
  offer(task: Omit<AgentTask, 'task_id' | 'fencing_token' | 'attempt' | 'lease_expires_at' | 'created_at'> & Partial<AgentTask>): AgentTask;
  /** From now on the node credential answers 401 (a retired node). */
  revoke(): void;
  /** Answer the next `count` calls of an operation with this status (e.g. 503) before behaving again. */
  failNext(operationId: string, status: number, count?: number): void;
  resultFor(taskId: string): RecordedCall | undefined;
  close(): Promise<void>;
}

export async function startFakeControlPlane(options: { hostname: string; taskWaitMaxSeconds?: number; heartbeatIntervalSeconds?: number }): Promise<FakeControlPlane> {
  const api = await buildOpenApiBackend(loadContract().document);
  const bootstrapToken = `bt_${randomUUID().replaceAll('-', '')}`;
  const nodeId = randomUUID();
  const calls: RecordedCall[] = [];
  const violations: string[] = [];
  const queue: AgentTask[] = [];
  const waiters = new Set<() => void>();
  const failures = new Map<string, { status: number; count: number }>();
  let revoked = false;
  const plane = { credential: `nc_${randomUUID().replaceAll('-', '')}${randomUUID().replaceAll('-', '')}` };

  function answer(response: ExpressResponse, operationId: string, status: number, body?: unknown) {
    try {
      assertResponseMatchesContract(operationId, status, body);
    } catch (error) {
      violations.push(`fake control plane answer: ${(error as Error).message}`);
    }
    if (body === undefined) response.status(status).end();
    else response.status(status).json(body);
  }

  function error(response: ExpressResponse, operationId: string, status: number, code: string, message: string) {
    answer(response, operationId, status, { code, message, correlation_id: randomUUID() });
  }

  async function handle(request: ExpressRequest, response: ExpressResponse) {
    const openapiRequest: OpenApiRequest = {
      method: request.method,
      path: request.baseUrl + request.path,
      headers: request.headers as Record<string, string | string[]>,
      query: request.query as Record<string, string | string[]>,
      body: request.body,
    };
    const operation = api.router.matchOperation(openapiRequest);
    if (!operation) {
      violations.push(`no contract operation for ${request.method} ${openapiRequest.path}`);
      return response.status(404).json({ code: 'not_found', message: 'no such operation', correlation_id: randomUUID() });
    }
    const operationId = operation.operationId!;
    calls.push({ operationId, body: request.body, headers: request.headers });
    const validation = api.validator.validateRequest(openapiRequest, operation);
    if (!validation.valid) {
      violations.push(`${operationId} request: ${JSON.stringify(validation.errors)} body: ${JSON.stringify(request.body)}`);
      return error(response, operationId, 400, 'validation_error', 'request does not match the contract');
    }
    const failure = failures.get(operationId);
    if (failure && failure.count > 0) {
      failure.count--;
      return error(response, operationId, failure.status, failure.status === 503 ? 'service_unavailable' : 'internal_error', 'scripted failure');
    }
    const bearer = String(request.headers['authorization'] ?? '').replace(/^Bearer /, '');
    if (operationId === 'registerNode') {
      if (bearer !== bootstrapToken) return error(response, operationId, 401, 'unauthenticated', 'Unknown, expired or already used bootstrap token');
      if ((request.body as { hostname: string }).hostname !== options.hostname) return error(response, operationId, 422, 'unprocessable', 'hostname mismatch');
      return answer(response, operationId, 201, {
        node_id: nodeId,
        node_credential: plane.credential,
        region: 'us-east',
        heartbeat_interval_seconds: options.heartbeatIntervalSeconds ?? 1,
        task_wait_max_seconds: options.taskWaitMaxSeconds ?? 1,
        task_lease_seconds: 120,
      });
    }
    if (revoked || bearer !== plane.credential) return error(response, operationId, 401, 'unauthenticated', 'node credential revoked');
    switch (operationId) {
      case 'sendNodeHeartbeat':
        return answer(response, operationId, 200, { node_state: 'active', heartbeat_interval_seconds: options.heartbeatIntervalSeconds ?? 1, server_time: new Date().toISOString() });
      case 'waitNodeTask': {
        const waitSeconds = Math.min(Number(request.query['wait_seconds'] ?? 30), options.taskWaitMaxSeconds ?? 1);
        if (queue.length === 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(wake, waitSeconds * 1000);
            function wake() {
              clearTimeout(timer);
              waiters.delete(wake);
              resolve();
            }
            waiters.add(wake);
            response.on('close', wake);
          });
        }
        const task = queue.shift();
        return task ? answer(response, operationId, 200, task) : answer(response, operationId, 204);
      }
      case 'reportNodeTaskResult': {
        const body = request.body as { outcome: 'succeeded' | 'failed' };
        return answer(response, operationId, 200, { task_id: openapiRequest.path.split('/')[6], outcome: body.outcome, recorded_at: new Date().toISOString(), duplicate: false });
      }
      case 'ingestGuestTelemetry': {
        const samples = (request.body as { samples: unknown[] }).samples;
        return answer(response, operationId, 202, { accepted: samples.length, rejected: 0 });
      }
      default:
        return error(response, operationId, 404, 'not_found', 'not part of the agent API');
    }
  }

  const service: HttpService = await createHttpService({
    name: 'fake-control-plane',
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('fake-control-plane', 'silent'),
    configure: (app) => {
      app.use('/internal/v1', express.json(), (request, response, next) => {
        handle(request, response).catch(next);
      });
    },
  });

  return {
    url: service.url,
    bootstrapToken,
    nodeId,
    calls,
    violations,
    get credential() {
      return plane.credential;
    },
    set credential(value: string) {
      plane.credential = value;
    },
    offer(partial) {
      const task: AgentTask = {
        task_id: randomUUID(),
        fencing_token: 1,
        attempt: 1,
        lease_expires_at: new Date(Date.now() + 120_000).toISOString(),
        created_at: new Date().toISOString(),
        ...partial,
      };
      queue.push(task);
      for (const wake of [...waiters]) wake();
      return task;
    },
    revoke() {
      revoked = true;
    },
    failNext(operationId, status, count = 1) {
      failures.set(operationId, { status, count });
    },
    resultFor(taskId) {
      return calls.find((call) => call.operationId === 'reportNodeTaskResult' && call.headers['x-idempotency-key']?.toString().includes(taskId));
    },
    async close() {
      for (const wake of [...waiters]) wake();
      // Held long-polls and keep-alive sockets of stopped agents would make a draining close wait for them.
      service.server.closeAllConnections();
      await service.close();
    },
  };
}

/** Polls `condition` until it holds or the deadline passes. */
export async function eventually<T>(condition: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

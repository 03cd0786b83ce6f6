import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

/** A socket close (code, reason), an operation error message (GraphQL errors), or a thrown error (message). */
export interface Failure {
  readonly code?: number;
  readonly reason?: string;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
  readonly message?: string;
}

function describeFailure(error: unknown): Failure {
  if (Array.isArray(error)) return { errors: error as Failure['errors'] };
  const { code, reason, message } = error as { code?: unknown; reason?: unknown; message?: unknown };
  return {
    ...(typeof code === 'number' ? { code } : {}),
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

export interface Subscription<T = Record<string, unknown>> {
  readonly results: ExecutionResult<T>[];
  /** Set when the socket or operation failed (a CloseEvent-like object with `code` and `reason`, or an Error). */
  readonly failure: Failure | undefined;
  readonly completed: boolean;
  /** Resolves with the n-th result (1-based) or rejects after `timeoutMs`. */
  nth(n: number, timeoutMs?: number): Promise<ExecutionResult<T>>;
  /** Resolves once the subscription failed or completed. */
  ended(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

export function wsClient(gatewayUrl: string, connectionParams: Record<string, unknown> = {}, protocols?: string[]): Client {
  const url = `${gatewayUrl.replace(/^http/, 'ws')}/graphql`;
  return createClient({
    url,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    webSocketImpl: protocols ? class extends WebSocket { constructor(address: string) { super(address, ['graphql-transport-ws', ...protocols!]); } } : WebSocket,
  });
}

/** Polls `condition` until it holds or `timeoutMs` passes. */
export async function eventually(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function subscribe<T = Record<string, unknown>>(client: Client, query: string, variables: Record<string, unknown> = {}): Subscription<T> {
  const state = { results: [] as ExecutionResult<T>[], failure: undefined as Subscription['failure'], completed: false };
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => state.results.push(result as ExecutionResult<T>),
      error: (error) => {
        state.failure = describeFailure(error);
      },
      complete: () => {
        state.completed = true;
      },
    },
  );
  return {
    get results() {
      return state.results;
    },
    get failure() {
      return state.failure;
    },
    get completed() {
      return state.completed;
    },
    async nth(n, timeoutMs = 5000) {
      await eventually(() => state.results.length >= n || state.failure !== undefined, timeoutMs, `result #${n}`);
      if (state.results.length < n) throw new Error(`subscription failed before result #${n}: ${JSON.stringify(state.failure)}`);
      return state.results[n - 1]!;
    },
    async ended(timeoutMs = 5000) {
      await eventually(() => state.failure !== undefined || state.completed, timeoutMs, 'the subscription to end');
    },
    unsubscribe,
  };
}

import type { AgentTask } from './control-plane/client.js';
import type { GpuDriver } from './drivers/driver.js';
import type { Logger } from '@gpuaas/telemetry';

export type TaskKind = AgentTask['kind'];

/** What a handler gets besides the task: the node, the driver and a signal that aborts when the agent stops. */
export interface TaskContext {
  readonly nodeId: string;
  readonly driver: GpuDriver;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** The rest-adapter's base URL (terminal relays connect to it). */
  readonly controlPlaneUrl: string;
  /** The node credential in force now (re-registration may replace it). */
  readonly nodeCredential: () => string;
}

/**
 * Runs one leased task and answers the contract's `result` object for it; throwing a DriverError (or any error)
 * reports the task as failed with that error's code. Handlers must be idempotent: a task can be offered again.
 */
export type TaskHandler = (task: AgentTask, context: TaskContext) => Promise<Record<string, unknown>>;

/** Handlers by task kind; the agent's built-ins fill provision/release/discover, the terminal module adds its own. */
export class TaskHandlerRegistry {
  readonly #handlers = new Map<TaskKind, TaskHandler>();

  register(kind: TaskKind, handler: TaskHandler): this {
    this.#handlers.set(kind, handler);
    return this;
  }

  get(kind: TaskKind): TaskHandler | undefined {
    return this.#handlers.get(kind);
  }

  has(kind: TaskKind): boolean {
    return this.#handlers.has(kind);
  }
}

import type { ExecutionResult } from 'graphql-ws';

/** Where a source pushes into an EventStream; `stop` ends the source (unsubscribe upstream). */
export interface EventSink<T> {
  push(value: T): void;
  end(finalValue?: T): void;
}

/**
 * A hand-written async iterator (not an `async function*`): `return()` takes effect at once, even while a consumer
 * awaits the next event, so a client that unsubscribes frees its upstream subscription immediately instead of at
 * the next event. Raw events are buffered (at most `maxBuffered`, oldest dropped: every event carries the full
 * current state) and turned into results one at a time, in order, by `transform`.
 */
export class EventStream<Raw> implements AsyncIterableIterator<ExecutionResult> {
  readonly #buffer: Raw[] = [];
  readonly #transform: (raw: Raw) => Promise<ExecutionResult>;
  readonly #maxBuffered: number;
  #stopSource: (() => void) | undefined;
  #finished = false;
  #ending = false;
  #waiting: ((result: IteratorResult<ExecutionResult>) => void) | undefined;

  constructor(transform: (raw: Raw) => Promise<ExecutionResult>, maxBuffered = 100) {
    this.#transform = transform;
    this.#maxBuffered = maxBuffered;
  }

  /** Connects the source; it gets a sink and returns how to stop it. */
  start(source: (sink: EventSink<Raw>) => () => void): this {
    const stop = source({
      push: (raw) => this.#push(raw),
      end: (finalValue) => {
        if (finalValue !== undefined) this.#push(finalValue);
        this.#ending = true;
        this.#wake();
      },
    });
    if (this.#finished) stop();
    else this.#stopSource = stop;
    return this;
  }

  #push(raw: Raw): void {
    if (this.#finished || this.#ending) return;
    this.#buffer.push(raw);
    if (this.#buffer.length > this.#maxBuffered) this.#buffer.shift();
    this.#wake();
  }

  #wake(): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    this.#waiting = undefined;
    void this.next().then(waiting);
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.#finished) return { done: true, value: undefined };
    const raw = this.#buffer.shift();
    if (raw === undefined) {
      if (this.#ending) return this.return();
      return new Promise((resolve) => {
        this.#waiting = resolve;
      });
    }
    const value = await this.#transform(raw);
    if (this.#finished) return { done: true, value: undefined };
    return { done: false, value };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    if (!this.#finished) {
      this.#finished = true;
      this.#buffer.length = 0;
      const stop = this.#stopSource;
      this.#stopSource = undefined;
      stop?.();
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.({ done: true, value: undefined });
    }
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

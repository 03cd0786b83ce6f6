import type { Redis } from 'ioredis';

interface ChannelEntry {
  readonly listeners: Set<() => void>;
  readonly ready: Promise<unknown>;
}

/**
 * One subscriber connection shared by every waiter of a store: a key with 50 waiting duplicates costs one
 * SUBSCRIBE, and the connection is opened only once somebody actually has to wait.
 */
export class CompletionListener {
  readonly #redis: Redis;
  readonly #channels = new Map<string, ChannelEntry>();
  #subscriber: Redis | undefined;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Resolves once the subscription is live; the returned function stops listening. */
  async listen(channel: string, onMessage: () => void): Promise<() => void> {
    const subscriber = this.#connection();
    let entry = this.#channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), ready: subscriber.subscribe(channel) };
      this.#channels.set(channel, entry);
    }
    const current = entry;
    current.listeners.add(onMessage);
    const stop = () => {
      current.listeners.delete(onMessage);
      if (current.listeners.size === 0 && this.#channels.get(channel) === current) {
        this.#channels.delete(channel);
        subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
    try {
      await current.ready;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#channels.clear();
    if (subscriber && subscriber.status !== 'end') await subscriber.quit();
  }

  #connection(): Redis {
    if (!this.#subscriber) {
      const subscriber = this.#redis.duplicate();
      // Connection errors surface as rejected SUBSCRIBEs (and waiters time out); the event only needs a handler.
      subscriber.on('error', () => undefined);
      subscriber.on('message', (channel: string) => {
        for (const listener of this.#channels.get(channel)?.listeners ?? []) listener();
      });
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }
}

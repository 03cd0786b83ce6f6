/** Subscribers keyed by an id (allocation, project); one process-wide map per key kind, not one NATS subscription each. */
export class ListenerIndex<T> {
  readonly #byKey = new Map<string, Set<(value: T) => void>>();
  #size = 0;

  add(key: string, listener: (value: T) => void): () => void {
    let set = this.#byKey.get(key);
    if (!set) this.#byKey.set(key, (set = new Set()));
    // The same function may be added once per key; a wrapper keeps removal exact.
    const entry = (value: T) => listener(value);
    set.add(entry);
    this.#size++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      set.delete(entry);
      this.#size--;
      if (set.size === 0 && this.#byKey.get(key) === set) this.#byKey.delete(key);
    };
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  emit(key: string, value: T): void {
    for (const listener of this.#byKey.get(key) ?? []) listener(value);
  }

  get size(): number {
    return this.#size;
  }
}

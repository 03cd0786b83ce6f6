/**
 * Per-request batching of lookups by id: every `load` issued in the same tick (the gateway's entity fetch resolves
 * each representation separately, a list resolves each row's field separately) becomes one `loadMany` call.
 */
type LoadMany<V> = (ids: readonly string[]) => Promise<Map<string, V>>;

interface Batch<V> {
  readonly ids: Set<string>;
  readonly result: Promise<Map<string, V>>;
}

const batches = new WeakMap<object, Map<string, Batch<unknown>>>();

export function loadBatched<V>(request: object, name: string, id: string, loadMany: LoadMany<V>): Promise<V | undefined> {
  let byName = batches.get(request);
  if (!byName) batches.set(request, (byName = new Map()));
  let batch = byName.get(name) as Batch<V> | undefined;
  if (!batch) {
    const ids = new Set<string>();
    const result = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      byName.delete(name);
      return loadMany([...ids]);
    });
    batch = { ids, result };
    byName.set(name, batch as Batch<unknown>);
  }
  batch.ids.add(id);
  return batch.result.then((values) => values.get(id));
}

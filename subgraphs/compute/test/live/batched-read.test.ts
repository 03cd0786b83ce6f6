import { describe, expect, it } from 'vitest';
import { BatchedRead } from '../../src/live/batched-reads.js';

/** A read whose every call is recorded and finished by the test. */
function controlledRead() {
  const calls: Array<{ key: string; finish: (value: string) => void; fail: (error: Error) => void }> = [];
  const read = new BatchedRead<string>(
    (key) =>
      new Promise<string>((resolve, reject) => {
        calls.push({ key, finish: resolve, fail: reject });
      }),
  );
  return { read, calls };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('batched start-up reads', () => {
  it('answers every caller of a key in the same turn with one read, per key', async () => {
    const { read, calls } = controlledRead();
    const answers = [read.load('a'), read.load('a'), read.load('b'), read.load('a')];
    await turn();
    expect(calls.map((call) => call.key)).toEqual(['a', 'b']);
    calls[0]!.finish('A');
    calls[1]!.finish('B');
    expect(await Promise.all(answers)).toEqual(['A', 'A', 'B', 'A']);
  });

  it('keeps one read in flight per key: later callers share the next read, started after the running one ends', async () => {
    const { read, calls } = controlledRead();
    const first = read.load('a');
    await turn();
    const second = [read.load('a'), read.load('a')];
    await turn();
    expect(calls).toHaveLength(1);
    calls[0]!.finish('old');
    expect(await first).toBe('old');
    await turn();
    expect(calls).toHaveLength(2);
    calls[1]!.finish('new');
    // Callers who came while the first read ran get a read that started after they asked.
    expect(await Promise.all(second)).toEqual(['new', 'new']);
  });

  it('does not pass a failed read on to the callers of the next one', async () => {
    const { read, calls } = controlledRead();
    const failing = read.load('a');
    await turn();
    const next = read.load('a');
    calls[0]!.fail(new Error('connection lost'));
    await expect(failing).rejects.toThrow('connection lost');
    await turn();
    calls[1]!.finish('fine');
    expect(await next).toBe('fine');
  });
});

import { describe, expect, it } from 'vitest';
import { versionedStream, type Versioned } from '../../src/live/allocation-stream.js';
import { ListenerIndex } from '../../src/live/listeners.js';

interface Copy extends Versioned {
  readonly state: string;
}

const copy = (id: string, version: number, state = `v${version}`): Copy => ({ id, version, state });

async function take(iterator: AsyncIterableIterator<unknown>, count: number): Promise<unknown[]> {
  const values: unknown[] = [];
  for (let index = 0; index < count; index++) {
    const result = await iterator.next();
    if (result.done) break;
    values.push(result.value);
  }
  return values;
}

describe('a subscriber\'s versioned stream', () => {
  it('keeps a change that lands between registering and reading the current state', async () => {
    const index = new ListenerIndex<Copy>();
    const stream = await versionedStream<Copy>(
      (push) => index.add('a', push),
      async () => {
        // The change commits and is published while the subscriber is still reading version 1.
        index.emit('a', copy('a', 2));
        return [copy('a', 1)];
      },
      (value) => value.state,
    );
    // Nothing was sent yet, so the newest copy is the one to send: the change is not lost behind the older read.
    expect(await take(stream, 1)).toEqual(['v2']);
    index.emit('a', copy('a', 3));
    expect(await take(stream, 1)).toEqual(['v3']);
    await stream.return!();
  });

  it('drops copies that are not newer than what was sent', async () => {
    const index = new ListenerIndex<Copy>();
    const stream = await versionedStream<Copy>(
      (push) => index.add('a', push),
      async () => {
        // Heard during the read, but older than or as old as what the read returns.
        index.emit('a', copy('a', 2));
        index.emit('a', copy('a', 3));
        return [copy('a', 3)];
      },
      (value) => value.state,
    );
    expect(await take(stream, 1)).toEqual(['v3']);
    index.emit('a', copy('a', 3, 'repeat'));
    index.emit('a', copy('a', 2, 'late'));
    index.emit('a', copy('a', 4));
    expect(await take(stream, 1)).toEqual(['v4']);
    await stream.return!();
  });

  it('holds only the newest pending copy per object for a slow reader, in first-seen order', async () => {
    const index = new ListenerIndex<Copy>();
    const stream = await versionedStream<Copy>((push) => index.add('p', push), async () => [], (value) => `${value.id}:${value.state}`);
    for (let version = 1; version <= 50; version++) index.emit('p', copy('a', version));
    index.emit('p', copy('b', 1));
    index.emit('p', copy('a', 51));
    expect(await take(stream, 2)).toEqual(['a:v51', 'b:v1']);
    await stream.return!();
  });

  it('delivers to a reader already waiting, and stops listening at once on return()', async () => {
    const index = new ListenerIndex<Copy>();
    const stream = await versionedStream<Copy>((push) => index.add('a', push), async () => [], (value) => value.state);
    const pending = stream.next();
    index.emit('a', copy('a', 7));
    expect(await pending).toEqual({ done: false, value: 'v7' });
    const waiting = stream.next();
    expect(index.size).toBe(1);
    await stream.return!();
    expect(index.size).toBe(0);
    expect(await waiting).toEqual({ done: true, value: undefined });
  });

  it('stops listening when reading the current state fails (the caller may not read it)', async () => {
    const index = new ListenerIndex<Copy>();
    const refused = versionedStream<Copy>(
      (push) => index.add('a', push),
      async () => {
        throw new Error('not_found');
      },
      (value) => value,
    );
    await expect(refused).rejects.toThrow('not_found');
    expect(index.size).toBe(0);
  });
});

import { SharedReads } from './shared-reads.js';

/** A read the test settles by hand, recording when each began. */
function manualReads() {
  const begun: Array<{ key: string; resolve: (v: string) => void; reject: (e: Error) => void }> = [];
  const reads = new SharedReads<string, string>(
    (key) =>
      new Promise<string>((resolve, reject) => {
        begun.push({ key, resolve, reject });
      }),
  );
  return { reads, begun };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SharedReads', () => {
  it('shares one read among callers that arrive before it begins, and the next one among those that arrive while it is under way', async () => {
    const { reads, begun } = manualReads();
    const first = reads.get('k');
    await tick();
    expect(begun).toHaveLength(1);
    const second = reads.get('k');
    const third = reads.get('k');
    await tick();
    expect(begun).toHaveLength(1); // the next read waits for the one under way

    begun[0].resolve('read 1');
    await expect(first).resolves.toBe('read 1');
    await tick();
    expect(begun).toHaveLength(2); // began only once the first settled
    begun[1].resolve('read 2');
    // Neither later caller gets the read that began before it asked.
    await expect(second).resolves.toBe('read 2');
    await expect(third).resolves.toBe('read 2');
  });

  it('a caller arriving while the second read is under way waits for a third', async () => {
    const { reads, begun } = manualReads();
    const first = reads.get('k');
    await tick();
    const second = reads.get('k');
    begun[0].resolve('1');
    await first;
    await tick();
    const third = reads.get('k');
    begun[1].resolve('2');
    await expect(second).resolves.toBe('2');
    await tick();
    expect(begun).toHaveLength(3);
    begun[2].resolve('3');
    await expect(third).resolves.toBe('3');
  });

  it('frees the key once nobody waits, and keys do not share', async () => {
    const { reads, begun } = manualReads();
    const a = reads.get('a');
    const b = reads.get('b');
    await tick();
    expect(begun.map((r) => r.key)).toEqual(['a', 'b']);
    begun[0].resolve('A');
    begun[1].resolve('B');
    expect([await a, await b]).toEqual(['A', 'B']);
    const again = reads.get('a');
    await tick();
    expect(begun).toHaveLength(3); // a fresh read, not the settled one
    begun[2].resolve('A2');
    await expect(again).resolves.toBe('A2');
  });

  it('a failed read fails its callers only; the waiting read still runs for the others', async () => {
    const { reads, begun } = manualReads();
    const first = reads.get('k');
    await tick();
    const second = reads.get('k');
    begun[0].reject(new Error('down'));
    await expect(first).rejects.toThrow('down');
    await tick();
    begun[1].resolve('ok');
    await expect(second).resolves.toBe('ok');
  });

  it('a read that throws synchronously rejects instead of throwing', async () => {
    const reads = new SharedReads<string, string>(() => {
      throw new Error('sync');
    });
    await expect(reads.get('k')).rejects.toThrow('sync');
    await expect(reads.get('k')).rejects.toThrow('sync');
  });
});

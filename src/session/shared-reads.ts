/**
 * Shares reads of one key among concurrent callers without ever handing a caller a read that
 * began before it asked: such a read may predate a change the caller already knows of (for a
 * session, an end already answered to a client). One read per key is under way; every caller
 * that arrives meanwhile shares the next one, which begins as soon as it settles. A burst of
 * callers costs two reads, the later ones waiting at most two reads.
 */
export class SharedReads<K, V> {
  private readonly slots = new Map<K, { current: Promise<V>; waiting?: Deferred<V> }>();

  constructor(private readonly read: (key: K) => Promise<V>) {}

  get(key: K): Promise<V> {
    const slot = this.slots.get(key);
    if (!slot) {
      const current = this.begin(key);
      this.slots.set(key, { current });
      return current;
    }
    slot.waiting ??= deferred<V>();
    return slot.waiting.promise;
  }

  private begin(key: K): Promise<V> {
    const read = Promise.resolve().then(() => this.read(key));
    const settled = () => this.advance(key, read);
    read.then(settled, settled);
    return read;
  }

  /** The read under way settled: the waiting one (if any) begins, or the key is free. */
  private advance(key: K, settled: Promise<V>): void {
    const slot = this.slots.get(key);
    if (!slot || slot.current !== settled) return;
    const waiting = slot.waiting;
    if (!waiting) {
      this.slots.delete(key);
      return;
    }
    slot.waiting = undefined;
    slot.current = this.begin(key);
    waiting.resolve(slot.current);
  }
}

interface Deferred<V> {
  promise: Promise<V>;
  resolve: (value: Promise<V>) => void;
}

function deferred<V>(): Deferred<V> {
  let resolve!: (value: Promise<V>) => void;
  const promise = new Promise<V>((r) => (resolve = r));
  return { promise, resolve };
}

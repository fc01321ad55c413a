/**
 * Setup file of the `simulation` project.
 *
 * `node:crypto`'s randomness comes from the run's seed (`entropy`), so session ids and tokens
 * replay. Hashes and HMACs stay the real ones.
 */
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  const { entropy } = await import('./entropy.js');
  const seeded = {
    randomBytes: (size: number) => entropy.bytes(size),
    randomUUID: () => entropy.uuid(),
  };
  return { ...actual, ...seeded, default: { ...actual, ...seeded } };
});

/**
 * lru-cache allocates its whole capacity up front: the activity recorder's 100,000 slots and the
 * in-process tier's 10,000, per instance, took two thirds of a run. A run never holds more than a
 * few dozen sessions, so the capacity is capped far above that; nothing else changes.
 */
vi.mock('lru-cache', async (importOriginal) => {
  const actual = await importOriginal<typeof import('lru-cache')>();
  type Options = ConstructorParameters<typeof actual.LRUCache<object, object>>[0];
  class LRUCache extends actual.LRUCache<object, object> {
    constructor(options: Options) {
      super({ ...options, max: Math.min(options.max ?? 1024, 1024) } as Options);
    }
  }
  return { ...actual, LRUCache };
});

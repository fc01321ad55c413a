/**
 * Every random choice of a simulated run comes from a seed: the one fast-check draws for the
 * schedule. Nothing else may be random, or a counterexample would not replay.
 */

/** A small seeded generator (mulberry32): fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [0, below). */
  below(below: number): number {
    return Math.floor(this.next() * below);
  }
}

/**
 * What `node:crypto`'s `randomBytes` and `randomUUID` answer inside the simulation (see
 * `deterministic-crypto.ts`): session ids and tokens, reseeded at the start of every run, so a
 * run's tokens, their hashes and every order that depends on them are the same on every replay.
 */
export const entropy = {
  rng: new Rng(1),
  reseed(seed: number): void {
    this.rng = new Rng(seed ^ 0x5eed);
  },
  bytes(size: number): Buffer {
    const buffer = Buffer.alloc(size);
    for (let i = 0; i < size; i++) buffer[i] = this.rng.below(256);
    return buffer;
  },
  uuid(): string {
    const hex = this.bytes(16).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  },
};

import type { KeyMemorySample } from '../ports/cache-observation.js';
import type { CachedSession, REVOKED, SupersededSession } from '../ports/session-cache.js';

/**
 * How far the shared tier is known to be up to date with the store: every access token that
 * stopped being valid (a session's end, a rotation) before `mark` (epoch milliseconds) is marked
 * revoked in it. `epoch` names the tier's contents: a tier that lost its watermark (a restart
 * without persistence, an eviction, a flush) gets a new epoch, and entries filled in another
 * epoch read as misses — a tier without a watermark is an empty cache, whatever it holds.
 */
export interface Watermark {
  epoch: string;
  mark: number;
}

/**
 * What the shared tier holds for a hash — a session (with the epoch it was filled in) or a
 * revocation mark — and for how long; or nothing.
 */
export type TierLookup = { entry: CachedSession; epoch: string; ttlMs: number } | { entry: typeof REVOKED; ttlMs: number } | null;

/**
 * The tier every instance shares (Redis), as `SharedSessionCache` uses it: plain reads and writes
 * that reject when the backend fails. What a failure means — a miss, a revocation kept for later
 * — is the cache's decision, in one place.
 */
export interface SharedSessionTier {
  /** What serves it, for the health check. */
  readonly backend: string;
  /** False while calls are known to fail (the circuit is open): the cache does not try. */
  readonly available: boolean;
  get(accessHash: string): Promise<TierLookup>;
  /**
   * Stores the session, tagged with `epoch`, unless — checked where it is written, atomically —
   * its hash is marked revoked (a late fill cannot undo a revocation), the tier's own clock is
   * past `notAfter` (epoch ms: a fill held in the network longer than a mark lives cannot undo
   * one either), or the tier's watermark is not of `epoch` (a fill that lands after the tier lost
   * its marks, a FLUSHALL, cannot bring back what they marked), or the key holds a session or a
   * `supersede` floor of a higher version than `session.version` (the fill read the store before
   * a change). Answers nothing either way.
   */
  set(accessHash: string, session: CachedSession, ttlSeconds: number, epoch: string, notAfter: number): Promise<void>;
  markRevoked(userId: string, accessHashes: readonly string[]): Promise<void>;
  forget(userId: string, accessHashes: readonly string[]): Promise<void>;
  /**
   * Replaces each session with a floor of its version (unless it holds a revocation mark or a
   * higher floor), for as long as a revocation mark lasts: a fill of a lower version is refused
   * there, a fill of that version or higher replaces it; a floor reads as a miss.
   */
  supersede(userId: string, sessions: readonly SupersededSession[]): Promise<void>;
  deleteUser(userId: string): Promise<void>;
  /** The watermark, or null when the tier holds none. */
  watermark(): Promise<Watermark | null>;
  /**
   * Sets `candidate` as the watermark unless there is one; answers the one that holds. Its mark
   * is never later than the tier's own clock minus `marginMs` (an instance whose clock runs fast
   * cannot set it in the future).
   */
  createWatermark(candidate: Watermark, marginMs: number): Promise<Watermark>;
  /**
   * Moves the mark to `mark` — at most the tier's own clock minus `marginMs` — if the epoch is
   * still `epoch` and it is a move forward; otherwise does nothing.
   */
  advanceWatermark(epoch: string, mark: number, marginMs: number): Promise<void>;
  /** Takes the lease on `job` for `ms` unless another holder has it; true when taken. */
  lease(job: string, ms: number): Promise<boolean>;
  /** Calls `handler` whenever the connection to the tier is (re-)established: the server may have restarted, or be another one. */
  onReconnect(handler: () => void): void;
  /** True when it answers; never rejects. */
  ping(): Promise<boolean>;
  /** Roughly how much memory the module's keys take (a few commands; see `RedisKeyMemorySampler`). Rejects when it fails. */
  sampleKeyMemory?(): Promise<KeyMemorySample>;
  start?(): Promise<void>;
  close?(): Promise<void>;
}

/**
 * What one instance tells the others: drop these access hashes, or every copy of a user's; with
 * `unmarked`, the hashes (of `userId`) were revoked but the shared tier refused their mark, so
 * every instance answers them revoked and delivers the mark itself.
 */
export interface Invalidation {
  hashes?: string[];
  userId?: string;
  unmarked?: boolean;
}

/** The channel between instances: invalidations, and whether this instance still hears them. */
export interface InvalidationChannel {
  /** True while this instance hears its own heartbeat: invalidations from others reach it. */
  readonly healthy: boolean;
  publish(invalidation: Invalidation): Promise<void>;
  onInvalidation(handler: (invalidation: Invalidation) => void): void;
  onHealthChange(handler: (healthy: boolean) => void): void;
  start(): Promise<void>;
  close(): void;
}

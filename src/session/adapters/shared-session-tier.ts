import type { CachedSession, REVOKED } from '../ports/session-cache.js';

/** What the shared tier holds for a hash — a session or a revocation mark — and for how long; or nothing. */
export type TierLookup = { entry: CachedSession | typeof REVOKED; ttlMs: number } | null;

/**
 * The tier every instance shares (Redis), as `RedisSessionCache` uses it: plain reads and writes
 * that reject when the backend fails. What a failure means — a miss, a revocation kept for later
 * — is the cache's decision, in one place.
 */
export interface SharedSessionTier {
  /** What serves it, for the health check. */
  readonly backend: string;
  /** False while calls are known to fail (the circuit is open): the cache does not try. */
  readonly available: boolean;
  get(accessHash: string): Promise<TierLookup>;
  /** Stores the session unless its hash is marked revoked (a late fill cannot undo a revocation). */
  set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void>;
  markRevoked(userId: string, accessHashes: readonly string[]): Promise<void>;
  forget(userId: string, accessHashes: readonly string[]): Promise<void>;
  deleteUser(userId: string): Promise<void>;
  /** True when it answers; never rejects. */
  ping(): Promise<boolean>;
  start?(): Promise<void>;
  close?(): Promise<void>;
}

/** The channel between instances: invalidations, and whether this instance still hears them. */
export interface InvalidationChannel {
  /** True while this instance hears its own heartbeat: invalidations from others reach it. */
  readonly healthy: boolean;
  publish(invalidation: { hashes?: string[]; userId?: string }): Promise<void>;
  onInvalidation(handler: (invalidation: { hashes?: string[]; userId?: string }) => void): void;
  onHealthChange(handler: (healthy: boolean) => void): void;
  start(): Promise<void>;
  close(): void;
}

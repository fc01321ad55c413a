/** The part of a session that validating an access token needs; times in epoch milliseconds. */
export interface CachedSession {
  id: string;
  userId: string;
  roles: string[];
  accessExpiresAt: number;
  expiresAt: number;
  lastActivityAt: number;
  authenticatedAt: number;
  createdAt: number;
  version: number;
  /** Fingerprint of the browser/OS family of the client that opened the session (for `ua` binding). */
  uaFingerprint: string;
  /** Network (/24 or /48) of the client that opened the session (for `ip` binding). */
  network: string;
}

/** What the cache answers for a token it knows was revoked or rotated away. */
export const REVOKED = 'revoked' as const;
export type CacheLookup = CachedSession | typeof REVOKED | null;

/**
 * A cache of live sessions keyed by access-token hash, in front of the store. It may forget
 * anything at any time; the store stays the truth. A revocation leaves a mark (a tombstone) that
 * a late cache fill cannot overwrite, so no race brings a revoked session back.
 *
 * Adapters: `RedisSessionCache`, `MemorySessionCache`, and the decorators `TieredSessionCache`
 * (in-process L1 with pub/sub invalidation) and `ResilientSessionCache` (retries failed
 * invalidations). The adapters pass `test/contract/session-cache.contract.ts`.
 * Methods may reject when the backend is down.
 */
export abstract class SessionCache {
  /** The cached session for this access hash, `REVOKED` when it is marked revoked, or null. */
  abstract get(accessHash: string): Promise<CacheLookup>;

  /**
   * Caches a session for `ttlSeconds` (a whole number, at least 1) and indexes it by user.
   * Does nothing when the hash is marked revoked.
   */
  abstract set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void>;

  /** Marks these access hashes of one user revoked (for the tombstone lifetime) and drops them from the user's index. */
  abstract markRevoked(userId: string, accessHashes: readonly string[]): Promise<void>;

  /** Forgets these access hashes (they will be read from the store again). */
  abstract forget(userId: string, accessHashes: readonly string[]): Promise<void>;

  /** Forgets every cached session of this user (e.g. after their roles changed). */
  abstract deleteUser(userId: string): Promise<void>;

  /** True when the cache answers. */
  abstract ping(): Promise<boolean>;

  /**
   * What this process itself holds for the hash, answered at once with no I/O; `undefined` when
   * it holds nothing (only `get` could tell). Adapters without an in-process tier hold nothing.
   */
  peek(_accessHash: string): CachedSession | typeof REVOKED | undefined {
    return undefined;
  }
}

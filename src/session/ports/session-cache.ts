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

/** A cached session that changed in the store: its access hash and its version after the change. */
export interface SupersededSession {
  accessHash: string;
  version: number;
}

/** What the cache answers for a token it knows was revoked or rotated away. */
export const REVOKED = 'revoked' as const;
/** What the cache answers when it could not look (its backend failed): a miss, counted as an error. */
export const UNAVAILABLE = 'unavailable' as const;
/** A session, a revocation mark, nothing (`null`: a miss), or `UNAVAILABLE`. */
export type CacheLookup = CachedSession | typeof REVOKED | typeof UNAVAILABLE | null;

/**
 * A cache of live sessions keyed by access-token hash, in front of the store. It may forget
 * anything at any time; the store stays the truth. A revocation leaves a mark (a tombstone) that
 * a late cache fill cannot overwrite, so no race brings a revoked session back.
 *
 * Adapters: `MemorySessionCache` (the default), and `redisSessionAdapters().cache`
 * (`SharedSessionCache` on Redis: an in-process tier, pub/sub invalidation, retried revocation
 * marks and reconciliation after an outage). Both pass the `sessionCacheContract` of the
 * package's `testing` entry.
 *
 * **No method rejects**: a backend that fails is the adapter's to handle — a read answers a miss
 * (or `UNAVAILABLE`), a fill is skipped, a revocation mark is kept and delivered later — so the
 * store decides whenever the cache cannot. An adapter may also have the `AdapterLifecycle` hooks
 * (`start`, `close`), which the module calls.
 */
export abstract class SessionCache {
  /** What serves the cache, as the health check reports it (`memory`, `redis`, …). */
  get backend(): string {
    return 'custom';
  }

  /** The cached session for this access hash, `REVOKED` when it is marked revoked, or null. */
  abstract get(accessHash: string): Promise<CacheLookup>;

  /**
   * Caches a session for `ttlSeconds` (a whole number, at least 1) and indexes it by user.
   * Does nothing when the hash is marked revoked, or holds a session or a `supersede` floor of a
   * higher version (the fill read the store before a change). `readAt` (epoch milliseconds) is when the
   * store was read for this fill, if known: an adapter may skip a fill that old (the session
   * may have ended since, and its revocation mark expired).
   */
  abstract set(accessHash: string, session: CachedSession, ttlSeconds: number, readAt?: number): Promise<void>;

  /** Marks these access hashes of one user revoked (for the tombstone lifetime) and drops them from the user's index. */
  abstract markRevoked(userId: string, accessHashes: readonly string[]): Promise<void>;

  /** Forgets these access hashes (they will be read from the store again). */
  abstract forget(userId: string, accessHashes: readonly string[]): Promise<void>;

  /**
   * Forgets these sessions of one user after a change in the store (their roles, say) and, for
   * the tombstone lifetime, refuses a fill of any of them with a lower version than given: a
   * validation that read the store just before the change cannot put the old copy back after it.
   */
  abstract supersede(userId: string, sessions: readonly SupersededSession[]): Promise<void>;

  /** Forgets every cached session of this user. */
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

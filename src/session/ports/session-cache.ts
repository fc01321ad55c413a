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
  /** Browser/OS family of the client that opened the session (for `ua` binding). */
  uaFamily: string;
  /** Network (/24 or /48) of the client that opened the session (for `ip` binding). */
  network: string;
}

/**
 * A cache of live sessions keyed by access-token hash, in front of the store. It may forget
 * anything at any time; the store stays the truth.
 *
 * Adapters: `RedisSessionCache`, `MemorySessionCache`. Both pass
 * `test/contract/session-cache.contract.ts`. Methods may reject when the backend is down; the
 * service treats that as a miss.
 */
export abstract class SessionCache {
  /** The cached session for this access hash, or null. */
  abstract get(accessHash: string): Promise<CachedSession | null>;

  /** Caches a session for `ttlSeconds` (a whole number, at least 1) and indexes it by user. */
  abstract set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void>;

  /** Forgets these access hashes of one user (and drops them from the user's index). */
  abstract delete(userId: string, accessHashes: readonly string[]): Promise<void>;

  /** Forgets every cached session of this user. */
  abstract deleteUser(userId: string): Promise<void>;

  /** True when the cache answers. */
  abstract ping(): Promise<boolean>;
}

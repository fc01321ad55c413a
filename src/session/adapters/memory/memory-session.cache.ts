import { LRUCache } from 'lru-cache';
import { CachedSession, CacheLookup, REVOKED, SessionCache, SupersededSession } from '../../ports/session-cache.js';

type Entry = CachedSession | typeof REVOKED;

/** In-process cache for a single instance (no `REDIS_URL`), bounded in entries and time. */
export class MemorySessionCache extends SessionCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly byUser = new Map<string, Set<string>>();
  /** access hash → the lowest version a fill may have (`supersede`), for the tombstone lifetime. */
  private readonly floors: LRUCache<string, number>;

  /**
   * @param maxEntries sessions (and revocation marks) kept at most
   * @param tombstoneSeconds how long a revocation mark lasts: at least as long as any entry
   */
  constructor(maxEntries = 10_000, private readonly tombstoneSeconds = 300) {
    super();
    this.floors = new LRUCache<string, number>({ max: maxEntries, ttl: tombstoneSeconds * 1000 });
    this.entries = new LRUCache<string, Entry>({
      max: maxEntries,
      dispose: (entry, accessHash) => {
        if (entry !== REVOKED) this.unindex(entry.userId, accessHash);
      },
    });
  }

  override get backend(): string {
    return 'memory';
  }

  override peek(accessHash: string): CachedSession | typeof REVOKED | undefined {
    return this.read(accessHash);
  }

  async get(accessHash: string): Promise<CacheLookup> {
    return this.read(accessHash) ?? null;
  }

  /** A copy: callers never edit what is cached. */
  private read(accessHash: string): CachedSession | typeof REVOKED | undefined {
    const entry = this.entries.get(accessHash);
    if (entry === undefined) return undefined;
    return entry === REVOKED ? REVOKED : { ...entry, roles: [...entry.roles] };
  }

  async set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void> {
    const held = this.entries.get(accessHash);
    if (held === REVOKED || (held !== undefined && held.version > session.version)) return;
    if (session.version < (this.floors.get(accessHash) ?? 0)) return;
    // A copy, so nothing the caller does to its object changes what the cache holds.
    this.entries.set(accessHash, { ...session, roles: [...session.roles] }, { ttl: Math.max(1, ttlSeconds) * 1000 });
    let hashes = this.byUser.get(session.userId);
    if (!hashes) this.byUser.set(session.userId, (hashes = new Set()));
    hashes.add(accessHash);
  }

  async markRevoked(_userId: string, accessHashes: readonly string[]): Promise<void> {
    for (const hash of accessHashes) this.entries.set(hash, REVOKED, { ttl: this.tombstoneSeconds * 1000 });
  }

  async forget(_userId: string, accessHashes: readonly string[]): Promise<void> {
    for (const hash of accessHashes) this.entries.delete(hash);
  }

  async supersede(_userId: string, sessions: readonly SupersededSession[]): Promise<void> {
    for (const { accessHash, version } of sessions) {
      if (this.entries.get(accessHash) === REVOKED) continue;
      this.entries.delete(accessHash);
      this.floors.set(accessHash, Math.max(version, this.floors.get(accessHash) ?? 0));
    }
  }

  async deleteUser(userId: string): Promise<void> {
    for (const hash of [...(this.byUser.get(userId) ?? [])]) {
      if (this.entries.get(hash) !== REVOKED) this.entries.delete(hash);
    }
    this.byUser.delete(userId);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  private unindex(userId: string, accessHash: string): void {
    const hashes = this.byUser.get(userId);
    if (!hashes) return;
    hashes.delete(accessHash);
    if (hashes.size === 0) this.byUser.delete(userId);
  }
}

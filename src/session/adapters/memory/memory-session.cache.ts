import { LRUCache } from 'lru-cache';
import { CachedSession, SessionCache } from '../../ports/session-cache';

/** In-process cache for a single instance (no `REDIS_URL`), bounded in entries and time. */
export class MemorySessionCache extends SessionCache {
  private readonly entries: LRUCache<string, CachedSession>;
  private readonly byUser = new Map<string, Set<string>>();

  constructor(maxEntries: number) {
    super();
    this.entries = new LRUCache<string, CachedSession>({
      max: maxEntries,
      ttlAutopurge: false,
      dispose: (session, accessHash) => this.unindex(session.userId, accessHash),
    });
  }

  async get(accessHash: string): Promise<CachedSession | null> {
    const session = this.entries.get(accessHash);
    return session ? { ...session, roles: [...session.roles] } : null;
  }

  async set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void> {
    // A copy, so nothing the caller does to its object changes what the cache holds.
    this.entries.set(accessHash, { ...session, roles: [...session.roles] }, { ttl: Math.max(1, ttlSeconds) * 1000 });
    let hashes = this.byUser.get(session.userId);
    if (!hashes) this.byUser.set(session.userId, (hashes = new Set()));
    hashes.add(accessHash);
  }

  async delete(_userId: string, accessHashes: readonly string[]): Promise<void> {
    for (const hash of accessHashes) this.entries.delete(hash);
  }

  async deleteUser(userId: string): Promise<void> {
    for (const hash of [...(this.byUser.get(userId) ?? [])]) this.entries.delete(hash);
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

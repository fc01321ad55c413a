import { LRUCache } from 'lru-cache';
import type { AdapterContext, AdapterLifecycle } from '../ports/adapter-lifecycle.js';
import { CachedSession, CacheLookup, REVOKED, SessionCache } from '../ports/session-cache.js';
import type { RedisInvalidationChannel } from './redis/redis-invalidation.channel.js';

type Entry = CachedSession | typeof REVOKED;

export interface TieredCacheOptions {
  /** Entries kept in process. */
  maxEntries: number;
  /** Longest time an entry is trusted in process, in milliseconds. */
  ttlMs: number;
}

/**
 * An in-process L1 (lru-cache) in front of the shared cache: a warm session validates with no
 * Redis round trip. Every change is published on the invalidation channel and every instance
 * drops its copy; an instance uses its L1 only while the channel is healthy, and never for longer
 * than `ttlMs`.
 */
export class TieredSessionCache extends SessionCache implements AdapterLifecycle {
  private readonly l1: LRUCache<string, Entry>;
  /** Grows with every invalidation heard: a fill that straddles one is not kept. */
  private epoch = 0;

  constructor(
    private readonly l2: SessionCache & AdapterLifecycle,
    private readonly channel: RedisInvalidationChannel,
    private readonly options: TieredCacheOptions,
  ) {
    super();
    this.l1 = new LRUCache<string, Entry>({ max: options.maxEntries, ttl: options.ttlMs });
    channel.onInvalidation(({ hashes, userId }) => {
      this.epoch += 1;
      if (hashes) for (const hash of hashes) this.l1.delete(hash);
      else if (userId !== undefined) this.l1.clear();
    });
    channel.onHealthChange(() => {
      this.epoch += 1;
      this.l1.clear();
    });
  }

  override get backend(): string {
    return this.l2.backend;
  }

  async start(context: AdapterContext): Promise<void> {
    await this.l2.start?.(context);
  }

  async close(): Promise<void> {
    await this.l2.close?.();
  }

  override peek(accessHash: string): CachedSession | typeof REVOKED | undefined {
    return this.trusted() ? this.l1.get(accessHash) : undefined;
  }

  async get(accessHash: string): Promise<CacheLookup> {
    const trusted = this.trusted();
    if (trusted) {
      const local = this.l1.get(accessHash);
      if (local !== undefined) return local;
    }
    const epoch = this.epoch;
    const shared = await this.l2.get(accessHash);
    if (trusted && shared !== null && epoch === this.epoch) this.keep(accessHash, shared);
    return shared;
  }

  /**
   * Writes through to the shared cache only: the L1 is filled by reads, from what the shared
   * cache holds, so a fill that lost a race with a revocation (refused there) never lands here.
   */
  async set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void> {
    this.l1.delete(accessHash);
    await this.l2.set(accessHash, session, ttlSeconds);
  }

  async markRevoked(userId: string, accessHashes: readonly string[]): Promise<void> {
    for (const hash of accessHashes) this.l1.set(hash, REVOKED);
    await this.l2.markRevoked(userId, accessHashes);
    await this.channel.publish({ hashes: [...accessHashes] });
  }

  async forget(userId: string, accessHashes: readonly string[]): Promise<void> {
    for (const hash of accessHashes) this.l1.delete(hash);
    await this.l2.forget(userId, accessHashes);
    await this.channel.publish({ hashes: [...accessHashes] });
  }

  async deleteUser(userId: string): Promise<void> {
    this.l1.clear();
    await this.l2.deleteUser(userId);
    await this.channel.publish({ userId });
  }

  ping(): Promise<boolean> {
    return this.l2.ping();
  }

  /** The L1 is used only while invalidations reach this instance; otherwise it is emptied. */
  private trusted(): boolean {
    if (this.channel.healthy) return true;
    if (this.l1.size > 0) this.l1.clear();
    return false;
  }

  private keep(accessHash: string, entry: Entry): void {
    this.l1.set(accessHash, entry === REVOKED ? REVOKED : { ...entry, roles: [...entry.roles] });
  }
}

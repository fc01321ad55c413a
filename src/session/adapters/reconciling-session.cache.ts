import { Logger } from '@nestjs/common';
import type { AdapterContext, AdapterLifecycle } from '../ports/adapter-lifecycle.js';
import { CachedSession, CacheLookup, REVOKED, SessionCache } from '../ports/session-cache.js';
import { accessHashesByUser } from '../ports/session-record.js';
import type { SessionStore } from '../ports/session-store.js';

/** Sessions ended this long before an outage was noticed are reconciled too: noticing takes time. */
const RECONCILE_MARGIN_MS = 10_000;
/** Sessions read from the store per reconciliation query. */
const RECONCILE_BATCH = 1000;
/** A failed reconciliation (store down as well) is tried again at most this often. */
const RETRY_MS = 1000;

export interface ReconcilingOptions {
  /** Whether the shared cache can be trusted right now (cheap: called per read). */
  sharedUsable: () => boolean;
  /** The store to reconcile from; else the module's, given at `start`. */
  store?: SessionStore;
  /** The clock, in epoch milliseconds. @default Date.now */
  now?: () => number;
  /** Other parts started and closed with the cache (the invalidation channel its health comes from). */
  resources?: AdapterLifecycle[];
}

/**
 * Keeps a shared cache that was away from serving what it missed meanwhile. While it is unusable
 * (the Redis circuit is open, or this instance stopped hearing its own heartbeat) every read is a
 * miss and nothing is filled, as before. What is new is the way back: a revocation made while
 * Redis was down or frozen could not mark the cache, and the session may still sit there, live, from
 * before the outage — so before the cache is read again, every session that ended since just
 * before the outage is looked up in the store and marked revoked in the cache. Until that is done
 * reads keep going to the store. This holds even when the instance that revoked is gone.
 */
export class ReconcilingSessionCache extends SessionCache implements AdapterLifecycle {
  private readonly logger = new Logger('SessionCache');
  private outageSince: number | null = null;
  private reconciling?: Promise<void>;
  private retryAfter = 0;
  private store?: SessionStore;
  private readonly sharedUsable: () => boolean;
  private readonly now: () => number;
  private readonly resources: AdapterLifecycle[];

  constructor(
    private readonly inner: SessionCache & AdapterLifecycle,
    options: ReconcilingOptions,
  ) {
    super();
    this.sharedUsable = options.sharedUsable;
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.resources = options.resources ?? [];
  }

  override get backend(): string {
    return this.inner.backend;
  }

  async start(context: AdapterContext): Promise<void> {
    this.store ??= context.store;
    // Each may wait a moment for a Redis that is away: together, not one after the other.
    await Promise.all([this.inner.start?.(context), ...this.resources.map((resource) => resource.start?.(context))]);
  }

  async close(): Promise<void> {
    for (const resource of this.resources) await resource.close?.();
    await this.inner.close?.();
  }

  override peek(accessHash: string): CachedSession | typeof REVOKED | undefined {
    return this.usable() ? this.inner.peek(accessHash) : undefined;
  }

  async get(accessHash: string): Promise<CacheLookup> {
    return this.usable() ? this.inner.get(accessHash) : null;
  }

  async set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void> {
    if (this.usable()) await this.inner.set(accessHash, session, ttlSeconds);
  }

  markRevoked(userId: string, accessHashes: readonly string[]): Promise<void> {
    return this.inner.markRevoked(userId, accessHashes);
  }

  forget(userId: string, accessHashes: readonly string[]): Promise<void> {
    return this.inner.forget(userId, accessHashes);
  }

  deleteUser(userId: string): Promise<void> {
    return this.inner.deleteUser(userId);
  }

  ping(): Promise<boolean> {
    return this.inner.ping();
  }

  /** True while the shared cache is read: it answers, invalidations reach this instance, nothing is left to reconcile. */
  get healthy(): boolean {
    return this.usable();
  }

  /** Runs the reconciliation now if one is due (tests; the read path starts it by itself). */
  async settle(): Promise<void> {
    this.usable();
    await this.reconciling;
  }

  private usable(): boolean {
    if (!this.sharedUsable()) {
      this.outageSince ??= this.now();
      return false;
    }
    if (this.outageSince === null) return true;
    if (!this.reconciling && this.now() >= this.retryAfter) {
      this.reconciling = this.reconcile().finally(() => {
        this.reconciling = undefined;
      });
    }
    return false;
  }

  private async reconcile(): Promise<void> {
    const outageSince = this.outageSince!;
    const store = this.store;
    if (!store) throw new Error('ReconcilingSessionCache was never started: it has no store to reconcile from');
    const since = new Date(outageSince - RECONCILE_MARGIN_MS);
    let marked = 0;
    try {
      let after: { endedAt: Date; id: string } | undefined;
      for (;;) {
        const ended = await store.endedSince(since, RECONCILE_BATCH, after);
        // Undelivered marks are kept and retried by the resilient layer below.
        for (const [userId, hashes] of accessHashesByUser(ended)) await this.inner.markRevoked(userId, hashes);
        marked += ended.length;
        if (ended.length < RECONCILE_BATCH) break;
        const last = ended[ended.length - 1];
        after = { endedAt: last.endedAt!, id: last.id };
      }
    } catch (error) {
      this.retryAfter = this.now() + RETRY_MS;
      this.logger.warn(`Could not reconcile the session cache after an outage, will retry: ${(error as Error).message}`);
      return;
    }
    // A new outage that began meanwhile keeps its own start.
    if (this.outageSince === outageSince && this.sharedUsable()) this.outageSince = null;
    this.logger.log(`Session cache back: marked ${marked} sessions that ended since ${since.toISOString()} as revoked`);
  }
}

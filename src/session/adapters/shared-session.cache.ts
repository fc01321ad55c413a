import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { AdapterContext, AdapterLifecycle } from '../ports/adapter-lifecycle.js';
import { CachedSession, CacheLookup, REVOKED, SessionCache, UNAVAILABLE } from '../ports/session-cache.js';
import { accessHashesByUser } from '../ports/session-record.js';
import type { SessionStore } from '../ports/session-store.js';
import { ThrottledWarning } from '../runtime/throttled-warning.js';
import type { InvalidationChannel, SharedSessionTier, TierLookup } from './shared-session-tier.js';

type Entry = CachedSession | typeof REVOKED;

/** Options of `SharedSessionCache`. */
export interface SharedSessionCacheOptions {
  /** Milliseconds an entry is trusted in this process; 0 turns the in-process tier off. */
  localTtlMs: number;
  /** Entries kept in this process at most. */
  localEntries: number;
  /** Milliseconds between two tries to deliver revocation marks the shared tier refused. @default 200 */
  retryMs?: number;
  /** The clock, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** Sessions ended this long before an outage was noticed are reconciled too: noticing takes time. */
const RECONCILE_MARGIN_MS = 10_000;
/** Sessions read from the store per reconciliation query. */
const RECONCILE_BATCH = 1000;
/** A failed reconciliation (store down as well) is tried again at most this often. */
const RECONCILE_RETRY_MS = 1000;
/** Revocation marks waiting for delivery at most; past this the oldest are dropped (and logged). */
const MAX_PENDING = 100_000;

/**
 * The session cache many instances share: an in-process tier in front of a shared tier (Redis),
 * with one rule, here and nowhere else — it never throws, and answers a session only while it can
 * trust what it holds; when unsure it answers a miss and the store decides.
 *
 * - **Trust.** The shared tier is read only while it answers (its circuit is closed), this
 *   instance hears its own heartbeat on the invalidation channel (so it hears every other
 *   instance's invalidations), and nothing is left to reconcile. The in-process tier is read only
 *   while the shared one is, for at most `localTtlMs`.
 * - **Revocation** is final: a mark in the in-process tier at once, in the shared tier (where a
 *   late fill cannot overwrite it), and an invalidation to every instance. A mark the shared tier
 *   refused is kept here, answered as revoked, and delivered every `retryMs` until it lands.
 * - **Reconciliation.** After the shared tier was away (or unheard), a revocation made meanwhile
 *   may be missing there — made by an instance that could not reach it, which may since have died.
 *   So before the shared tier is read again, every session that ended since just before the
 *   outage is read from the store and marked revoked in it.
 * - **Fills** come from the store only, through `set`; an entry is never rewritten from what the
 *   cache itself held.
 */
export class SharedSessionCache extends SessionCache implements AdapterLifecycle {
  private readonly logger = new Logger('SessionCache');
  private readonly warning = new ThrottledWarning('SessionCache', 5000);
  private readonly local?: LRUCache<string, Entry>;
  /** Grows with every invalidation heard: a local fill that straddles one is not kept. */
  private epoch = 0;
  /** access hash → user id, for revocation marks not yet delivered to the shared tier. */
  private readonly pending = new Map<string, string>();
  private retryTimer?: NodeJS.Timeout;
  private store?: SessionStore;
  private outageSince: number | null = null;
  private reconciling?: Promise<void>;
  private reconcileAfter = 0;
  private readonly now: () => number;
  private readonly retryMs: number;
  private readonly localTtlMs: number;

  constructor(
    private readonly shared: SharedSessionTier,
    private readonly channel: InvalidationChannel,
    options: SharedSessionCacheOptions,
  ) {
    super();
    this.now = options.now ?? Date.now;
    this.retryMs = options.retryMs ?? 200;
    this.localTtlMs = options.localTtlMs;
    if (options.localTtlMs > 0) this.local = new LRUCache<string, Entry>({ max: options.localEntries, ttl: options.localTtlMs });
    channel.onInvalidation(({ hashes, userId }) => {
      this.epoch += 1;
      if (hashes) for (const hash of hashes) this.local?.delete(hash);
      else if (userId !== undefined) this.local?.clear();
    });
    // Invalidations may have been missed while the channel was unhealthy: drop every local copy.
    channel.onHealthChange(() => {
      this.epoch += 1;
      this.local?.clear();
    });
  }

  override get backend(): string {
    return this.shared.backend;
  }

  /** True while the shared tier is read: it answers, invalidations reach this instance, nothing is left to reconcile. */
  get healthy(): boolean {
    return this.trusted();
  }

  /** Revocation marks the shared tier has not taken yet. */
  get pendingRevocations(): number {
    return this.pending.size;
  }

  async start(context: AdapterContext): Promise<void> {
    this.store ??= context.store;
    // Each may wait a moment for a Redis that is away: together, not one after the other.
    await Promise.all([this.shared.start?.(), this.channel.start()]);
  }

  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.channel.close();
    await this.shared.close?.();
  }

  override peek(accessHash: string): CachedSession | typeof REVOKED | undefined {
    if (this.pending.has(accessHash)) return REVOKED;
    return this.trusted() ? this.local?.get(accessHash) : undefined;
  }

  async get(accessHash: string): Promise<CacheLookup> {
    if (this.pending.has(accessHash)) return REVOKED;
    if (!this.trusted()) return null;
    const local = this.local?.get(accessHash);
    if (local !== undefined) return local;
    const epoch = this.epoch;
    let found: TierLookup;
    try {
      found = await this.shared.get(accessHash);
    } catch (error) {
      this.warn('read', error);
      return UNAVAILABLE;
    }
    if (found === null) return null;
    const { entry, ttlMs } = found;
    // Kept here only if no invalidation was heard meanwhile and the tier is still trusted, and
    // never longer than the shared tier keeps it.
    if (epoch === this.epoch && ttlMs > 0 && this.trusted()) {
      this.local?.set(accessHash, entry === REVOKED ? REVOKED : { ...entry, roles: [...entry.roles] }, { ttl: Math.min(this.localTtlMs, ttlMs) });
    }
    return entry;
  }

  /**
   * Writes to the shared tier only: the local tier is filled by reads, from what the shared tier
   * holds, so a fill that lost a race with a revocation (refused there) never lands here.
   */
  async set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void> {
    if (this.pending.has(accessHash) || !this.trusted()) return;
    this.local?.delete(accessHash);
    try {
      await this.shared.set(accessHash, session, ttlSeconds);
    } catch (error) {
      this.warn('write', error);
    }
  }

  async markRevoked(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    for (const hash of accessHashes) this.local?.set(hash, REVOKED);
    try {
      await this.shared.markRevoked(userId, accessHashes);
    } catch (error) {
      this.warn('revocation', error);
      this.keepPending(userId, accessHashes);
    }
    await this.tellOthers({ hashes: [...accessHashes] });
  }

  async forget(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    for (const hash of accessHashes) this.local?.delete(hash);
    try {
      await this.shared.forget(userId, accessHashes);
    } catch (error) {
      this.warn('invalidation', error);
    }
    await this.tellOthers({ hashes: [...accessHashes] });
  }

  async deleteUser(userId: string): Promise<void> {
    this.local?.clear();
    try {
      await this.shared.deleteUser(userId);
    } catch (error) {
      this.warn('invalidation', error);
    }
    await this.tellOthers({ userId });
  }

  ping(): Promise<boolean> {
    return this.shared.ping();
  }

  /** Runs the reconciliation now if one is due, and the delivery of pending marks (tests; both also run by themselves). */
  async settle(): Promise<void> {
    this.trusted();
    await this.reconciling;
    await this.deliverPending();
  }

  /** The one health rule: the shared tier answers, its channel is heard, and nothing is left to reconcile. */
  private trusted(): boolean {
    if (!this.shared.available || !this.channel.healthy) {
      this.outageSince ??= this.now();
      if (this.local?.size) this.local.clear();
      return false;
    }
    if (this.outageSince === null) return true;
    if (!this.reconciling && this.now() >= this.reconcileAfter) {
      this.reconciling = this.reconcile().finally(() => {
        this.reconciling = undefined;
      });
    }
    return false;
  }

  /**
   * Marks revoked, in the shared tier, every access token that stopped being valid since just
   * before the outage began: of sessions that ended, and of rotations.
   */
  private async reconcile(): Promise<void> {
    const outageSince = this.outageSince!;
    const since = new Date(outageSince - RECONCILE_MARGIN_MS);
    let marked = 0;
    try {
      if (!this.store) throw new Error('the cache was never started, so it has no store to reconcile from');
      let after: { at: Date; accessHash: string } | undefined;
      for (;;) {
        const revoked = await this.store.revokedAccessSince(since, RECONCILE_BATCH, after);
        for (const [userId, hashes] of accessHashesByUser(revoked)) await this.shared.markRevoked(userId, hashes);
        marked += revoked.length;
        if (revoked.length < RECONCILE_BATCH) break;
        after = revoked[revoked.length - 1];
      }
    } catch (error) {
      this.reconcileAfter = this.now() + RECONCILE_RETRY_MS;
      this.logger.warn(`Could not reconcile the session cache after an outage, will retry: ${(error as Error).message}`);
      return;
    }
    // A new outage that began meanwhile keeps its own start.
    if (this.outageSince === outageSince && this.shared.available && this.channel.healthy) this.outageSince = null;
    this.logger.log(`Session cache back: marked ${marked} access tokens revoked since ${since.toISOString()}`);
  }

  private keepPending(userId: string, accessHashes: readonly string[]): void {
    for (const hash of accessHashes) this.pending.set(hash, userId);
    while (this.pending.size > MAX_PENDING) {
      this.pending.delete(this.pending.keys().next().value as string);
      this.logger.error('Too many undelivered cache revocations; dropped the oldest (it ends with its cache TTL)');
    }
    this.retryTimer ??= setTimeout(() => void this.retryPending(), this.retryMs).unref();
  }

  private async retryPending(): Promise<void> {
    this.retryTimer = undefined;
    await this.deliverPending();
    if (this.pending.size > 0) this.retryTimer ??= setTimeout(() => void this.retryPending(), this.retryMs).unref();
  }

  /** Delivers pending marks, grouped by user; what fails stays for the next round. */
  private async deliverPending(): Promise<void> {
    if (this.pending.size === 0) return;
    const marks = [...this.pending].map(([accessHash, userId]) => ({ accessHash, userId }));
    for (const [userId, hashes] of accessHashesByUser(marks)) {
      try {
        await this.shared.markRevoked(userId, hashes);
        for (const hash of hashes) this.pending.delete(hash);
      } catch {
        return;
      }
    }
    this.logger.log('Delivered every pending cache revocation');
  }

  private async tellOthers(invalidation: { hashes?: string[]; userId?: string }): Promise<void> {
    try {
      await this.channel.publish(invalidation);
    } catch (error) {
      // The others stop trusting their copies when they stop hearing their heartbeat.
      this.warn('invalidation', error);
    }
  }

  private warn(what: string, error: unknown): void {
    this.warning.warn(`Session cache ${what} failed, using PostgreSQL: ${(error as Error).message}`);
  }
}

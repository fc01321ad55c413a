import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { AdapterContext, AdapterLifecycle } from '../ports/adapter-lifecycle.js';
import type { CacheState, KeyMemorySample, ObservableSessionCache } from '../ports/cache-observation.js';
import { CachedSession, CacheLookup, REVOKED, SessionCache, SupersededSession, UNAVAILABLE } from '../ports/session-cache.js';
import { accessHashesByUser } from '../ports/session-record.js';
import { RepeatingJob } from '../repeating-job.js';
import { ThrottledWarning } from '../runtime/throttled-warning.js';
import { CacheReconciler, RECONCILE_MARGIN_MS } from './cache-reconciler.js';
import type { Invalidation, InvalidationChannel, SharedSessionTier, Watermark } from './shared-session-tier.js';

type Entry = CachedSession | typeof REVOKED;

/** Options of `SharedSessionCache`. */
export interface SharedSessionCacheOptions {
  /** Milliseconds an entry is trusted in this process; 0 turns the in-process tier off. */
  localTtlMs: number;
  /** Entries kept in this process at most. */
  localEntries: number;
  /**
   * Milliseconds between two reconciliation rounds, each run by one instance (a lease in the
   * shared tier): the longest an end that no instance could mark (its instance lost the shared
   * tier, then died) stays unmarked while the others still read the tier. @default 5000
   */
  reconcileIntervalMs?: number;
  /** Milliseconds between two reads of the watermark, which notice a tier that lost it or went back on it. @default 1000 */
  watchMs?: number;
  /**
   * False switches reconciliation off: no rounds, and nothing marked before the tier is read
   * again after a fault — so a revocation made during a fault can be undone by it. Only for
   * tests that show what reconciliation prevents. @default true
   */
  reconcile?: boolean;
  /** Milliseconds between two tries to deliver revocation marks the shared tier refused. @default 200 */
  retryMs?: number;
  /** The clock, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** A failed catch-up (the store down as well) is tried again at most this often. */
const CATCH_UP_RETRY_MS = 1000;
/** How long `start` waits for the first catch-up (the cache answers misses until it is done). */
const START_WAIT_MS = 3000;
/**
 * A fill of what the store said longer ago than this is skipped: a process frozen between its
 * read and its write could otherwise put back a session revoked meanwhile, once that revocation's
 * mark had expired. (A query's own time is bounded by its 5 s statement timeout.)
 */
const FILL_WINDOW_MS = 10_000;
/**
 * And a fill reaching the shared tier more than this after its read, by the tier's own clock, is
 * refused there: one held in the network (TCP retransmitting through a partition) could
 * otherwise land once the mark it raced had expired. The fill window, and the margin the
 * watermark keeps for clocks apart: well within a mark's lifetime (300 s).
 */
const FILL_DEADLINE_MS = FILL_WINDOW_MS + RECONCILE_MARGIN_MS;
/** Revocation marks waiting for delivery at most; past this the oldest are dropped (and logged). */
const MAX_PENDING = 100_000;

/**
 * The session cache many instances share: an in-process tier in front of a shared tier (Redis),
 * with one rule, here and nowhere else — it never throws, and answers a session only while it can
 * show the answer is not older than any end it should know of; when unsure it answers a miss and
 * the store decides.
 *
 * - **In sync.** The shared tier is read only while this instance is in sync with it: the tier
 *   answers (its circuit is closed), this instance hears its own heartbeat on the invalidation
 *   channel (so it hears every other instance's invalidations), and since the last fault —
 *   start, a reconnect, an outage, a channel gone quiet (even for a moment), a watermark lost or
 *   gone back — it has caught up: marked in the tier every end since the tier's watermark
 *   (`CacheReconciler`).
 *   The in-process tier is read only while in sync, for at most `localTtlMs`.
 * - **Epochs.** Every entry carries the epoch of the watermark it was filled under; a tier that
 *   lost its watermark gets a new epoch, so what it still holds reads as misses.
 * - **Revocation** is final: a mark in the in-process tier at once, in the shared tier (where a
 *   late fill cannot overwrite it), and an invalidation to every instance. A mark the shared tier
 *   refused is kept here, answered as revoked, and delivered every `retryMs` until it lands; the
 *   invalidation then says so, and every instance that hears it does the same (the tier may
 *   refuse writes yet serve reads: out of memory). A word that did not reach the channel is said
 *   again at each retry.
 * - **Reconciliation rounds.** Every `reconcileIntervalMs` one instance marks every end since
 *   the watermark and moves it forward, so an end whose instance could not mark it (and died)
 *   is marked within one interval, and the watermark bounds what a catch-up reads.
 * - **Fills** come from the store only, through `set`; an entry is never rewritten from what the
 *   cache itself held, and a fill of what the store said before this instance's last fault, or
 *   more than 10 s ago, is skipped; the shared tier refuses one that reaches it more than 20 s
 *   after the read (by its own clock), or outside the watermark's epoch.
 */
export class SharedSessionCache extends SessionCache implements AdapterLifecycle, ObservableSessionCache {
  private readonly logger = new Logger('SessionCache');
  private readonly warning = new ThrottledWarning('SessionCache', 5000);
  private readonly local?: LRUCache<string, Entry>;
  /** The watermark this instance caught up with; null until it has (nothing is read from the tier meanwhile). */
  private synced: Watermark | null = null;
  /** The mark of the last watermark this instance read or caught up with (for the reconciliation lag gauge). */
  private watermarkSeen: number | null = null;
  /** Grows with every fault: a catch-up or a read that straddled one counts for nothing. */
  private faults = 0;
  /** When the last fault was seen (epoch ms): a fill read from the store before it is skipped. */
  private lastFaultAt = 0;
  /** Grows with every invalidation heard: a read that straddled one is not kept in process. */
  private invalidations = 0;
  private catchingUp?: Promise<void>;
  private catchUpAfter = 0;
  /** access hash → user id, for revocation marks not yet delivered to the shared tier. */
  private readonly pending = new Map<string, string>();
  /** Pending marks made here whose `unmarked` invalidation did not reach the channel: told again at each retry until it does. */
  private readonly untold = new Set<string>();
  private retryTimer?: NodeJS.Timeout;
  private reconciler?: CacheReconciler;
  private readonly watching: RepeatingJob<void>;
  private readonly rounds: RepeatingJob<void>;
  private readonly now: () => number;
  private readonly retryMs: number;
  private readonly localTtlMs: number;
  private readonly reconcileIntervalMs: number;
  private readonly watchMs: number;
  private readonly reconcile: boolean;

  constructor(
    private readonly shared: SharedSessionTier,
    private readonly channel: InvalidationChannel,
    options: SharedSessionCacheOptions,
  ) {
    super();
    this.now = options.now ?? Date.now;
    this.retryMs = options.retryMs ?? 200;
    this.localTtlMs = options.localTtlMs;
    this.reconcileIntervalMs = options.reconcileIntervalMs ?? 5000;
    this.watchMs = options.watchMs ?? 1000;
    this.reconcile = options.reconcile ?? true;
    if (options.localTtlMs > 0) this.local = new LRUCache<string, Entry>({ max: options.localEntries, ttl: options.localTtlMs });
    this.watching = new RepeatingJob(() => this.watch(), () => undefined);
    this.rounds = new RepeatingJob(() => this.reconcileRound(), (error) => this.warn('reconciliation', error));
    channel.onInvalidation(({ hashes, userId, unmarked }) => {
      this.invalidations += 1;
      if (hashes && unmarked && userId !== undefined) this.adopt(userId, hashes);
      else if (hashes) for (const hash of hashes) this.local?.delete(hash);
      else if (userId !== undefined) this.local?.clear();
    });
    // Invalidations may have been missed while the channel was unhealthy: drop every local copy,
    // and fall out of sync at once — one of them may have said a mark did not land (Redis out of
    // memory: it still serves the live entry), so the tier is not read again before a catch-up
    // has marked every end since the watermark (refused too, out of memory: the store answers).
    // Waiting for the next `trusted()` would miss a subscription back within a few hundred ms.
    channel.onHealthChange((healthy) => {
      this.invalidations += 1;
      this.local?.clear();
      if (!healthy) this.desync('its invalidation channel went quiet');
    });
    // The server may have restarted or been restored from a snapshot, or be another one.
    shared.onReconnect(() => this.desync('reconnected to it'));
  }

  override get backend(): string {
    return this.shared.backend;
  }

  /** True while the shared tier is read: it answers, invalidations reach this instance, and this instance caught up with it. */
  get healthy(): boolean {
    return this.trusted();
  }

  /** Revocation marks the shared tier has not taken yet. */
  get pendingRevocations(): number {
    return this.pending.size;
  }

  /** What the cache gauges read: no I/O. */
  cacheState(): CacheState {
    return {
      breakerOpen: !this.shared.available,
      inSync: this.synced !== null && this.shared.available && this.channel.healthy,
      pendingRevocations: this.pending.size,
      watermarkAt: this.watermarkSeen,
    };
  }

  /** The shared tier's sample of its memory, when it can take one (null otherwise, or while its breaker is open). */
  async sampleKeyMemory(): Promise<KeyMemorySample | null> {
    if (!this.shared.sampleKeyMemory || !this.shared.available) return null;
    return this.shared.sampleKeyMemory();
  }

  /** Connects, and catches up with the shared tier (waiting for that at most 3 s: until then every read is a miss). */
  async start(context: AdapterContext): Promise<void> {
    this.reconciler ??= new CacheReconciler(this.shared, context.store, (hashes) => this.channel.publish({ hashes }), this.now);
    const deadline = Date.now() + START_WAIT_MS;
    // Each may wait a moment for a Redis that is away: together, not one after the other.
    await Promise.all([this.shared.start?.(), this.channel.start()]);
    this.watching.every(this.watchMs / 1000);
    // Every instance asks for the lease four times an interval, and the lease lasts three
    // quarters of one: one round per interval or a bit more, and if its holder dies, the next
    // round still starts within one interval of its last.
    if (this.reconcile) this.rounds.every(this.reconcileIntervalMs / 4000);
    // In sync once the channel hears its first heartbeat and the catch-up is done.
    while (!this.trusted() && Date.now() < deadline) {
      await (this.catchingUp ?? new Promise((resolve) => setTimeout(resolve, 20)));
    }
  }

  /** Stops the watch and the rounds (waiting for one in progress), while the store is still open. */
  async stop(): Promise<void> {
    await Promise.all([this.watching.stop(), this.rounds.stop()]);
  }

  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    await this.stop();
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
    const { faults, invalidations } = this;
    const epoch = this.synced!.epoch;
    let found;
    try {
      found = await this.shared.get(accessHash);
    } catch (error) {
      this.warn('read', error);
      return UNAVAILABLE;
    }
    if (found === null) return null;
    if (found.entry === REVOKED) {
      if (faults === this.faults && invalidations === this.invalidations) this.keep(accessHash, REVOKED, found.ttlMs);
      return REVOKED;
    }
    // A session counts only if read in sync, in this epoch, with no fault meanwhile.
    if (found.epoch !== epoch || faults !== this.faults || !this.trusted()) return null;
    if (invalidations === this.invalidations) this.keep(accessHash, { ...found.entry, roles: [...found.entry.roles] }, found.ttlMs);
    return found.entry;
  }

  /**
   * Writes to the shared tier only: the local tier is filled by reads, from what the shared tier
   * holds, so a fill that lost a race with a revocation (refused there) never lands here. A fill
   * of what the store said before this instance's last fault, or too long ago, is skipped.
   */
  async set(accessHash: string, session: CachedSession, ttlSeconds: number, readAt?: number): Promise<void> {
    if (this.pending.has(accessHash) || !this.trusted()) return;
    if (readAt !== undefined && (readAt <= this.lastFaultAt || this.now() - readAt > FILL_WINDOW_MS)) return;
    this.local?.delete(accessHash);
    try {
      await this.shared.set(accessHash, session, ttlSeconds, this.synced!.epoch, (readAt ?? this.now()) + FILL_DEADLINE_MS);
    } catch (error) {
      this.warn('write', error);
    }
  }

  /**
   * Marks the hashes revoked here, in the shared tier, and on every instance. When the shared
   * tier refuses the mark while it still serves reads (out of memory, say), every instance is
   * told so and keeps the mark itself, answering revoked and delivering it, until it lands.
   */
  async markRevoked(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    // Counts as an invalidation heard, at once: a read in flight here (it may have left before
    // the mark reached the tier) must not keep what it read over this mark.
    this.invalidations += 1;
    for (const hash of accessHashes) this.local?.set(hash, REVOKED);
    try {
      await this.shared.markRevoked(userId, accessHashes);
    } catch (error) {
      this.warn('revocation', error);
      this.keepPending(userId, accessHashes);
      if (!(await this.tellOthers({ hashes: [...accessHashes], userId, unmarked: true }))) for (const hash of accessHashes) this.untold.add(hash);
      return;
    }
    await this.tellOthers({ hashes: [...accessHashes] });
  }

  async forget(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    this.invalidations += 1; // as in `markRevoked`
    for (const hash of accessHashes) this.local?.delete(hash);
    try {
      await this.shared.forget(userId, accessHashes);
    } catch (error) {
      this.warn('invalidation', error);
    }
    await this.tellOthers({ hashes: [...accessHashes] });
  }

  /**
   * Drops the sessions here, leaves a floor of their new version in the shared tier (a fill read
   * before the change is refused there), and tells every instance to drop its copy. When the tier
   * refuses the floor, the copies are deleted from it instead.
   */
  async supersede(userId: string, sessions: readonly SupersededSession[]): Promise<void> {
    if (sessions.length === 0) return;
    this.invalidations += 1; // as in `markRevoked`
    const hashes = sessions.map((s) => s.accessHash);
    for (const hash of hashes) this.local?.delete(hash);
    try {
      await this.shared.supersede(userId, sessions);
    } catch (error) {
      this.warn('invalidation', error);
      await this.shared.forget(userId, hashes).catch(() => undefined);
    }
    await this.tellOthers({ hashes });
  }

  async deleteUser(userId: string): Promise<void> {
    this.invalidations += 1; // as in `markRevoked`
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

  /** Runs the catch-up now if one is due, and the delivery of pending marks (tests; both also run by themselves). */
  async settle(): Promise<void> {
    this.trusted();
    await this.catchingUp;
    await this.deliverPending();
  }

  /** Runs one reconciliation round now, if the lease is free (tests; rounds also run by themselves). */
  async reconcileNow(): Promise<number | null> {
    return this.reconciler?.round(this.leaseMs) ?? null;
  }

  /** How long a round's lease lasts: three quarters of an interval (see `start`). */
  private get leaseMs(): number {
    return (this.reconcileIntervalMs * 3) / 4;
  }

  /** The one rule: the shared tier answers, its channel is heard, and this instance caught up with it. */
  private trusted(): boolean {
    if (!this.shared.available || !this.channel.healthy) {
      this.desync(this.shared.available ? 'its invalidation channel went quiet' : 'it stopped answering');
      return false;
    }
    if (this.synced) return true;
    this.catchUp();
    return false;
  }

  /** Stops reading the shared tier until this instance caught up with it again. */
  private desync(why: string): void {
    this.faults += 1;
    this.lastFaultAt = this.now();
    if (this.synced === null) return;
    this.synced = null;
    this.local?.clear();
    this.logger.warn(`Session cache out of sync with Redis (${why}): PostgreSQL answers until it has caught up`);
  }

  /** Marks every end since the tier's watermark (unless reconciliation is off), then reads the tier again. */
  private catchUp(): void {
    if (this.catchingUp || this.now() < this.catchUpAfter || !this.reconciler) return;
    const faults = this.faults;
    this.catchingUp = this.reconciler
      .catchUp(this.reconcile)
      .then(
        ({ watermark, marked }) => {
          if (faults !== this.faults) return; // another fault meanwhile: catch up again
          this.synced = watermark;
          this.seeWatermark(watermark);
          this.logger.log(
            `Session cache in sync with Redis (epoch ${watermark.epoch}): marked ${marked} access tokens ended since ${new Date(watermark.mark).toISOString()}`,
          );
        },
        (error: Error) => {
          this.catchUpAfter = this.now() + CATCH_UP_RETRY_MS;
          this.logger.warn(`Could not catch the session cache up with PostgreSQL, will retry: ${error.message}`);
        },
      )
      .finally(() => {
        this.catchingUp = undefined;
      });
  }

  /**
   * Reads the watermark: lost, of another epoch, or gone back means the tier is not the one this
   * instance caught up with. Out of sync, catches up (requests do too, but an idle instance must).
   */
  private async watch(): Promise<void> {
    const synced = this.synced;
    if (!synced) return void this.trusted();
    if (!this.shared.available) return;
    const faults = this.faults;
    let found: Watermark | null;
    try {
      found = await this.shared.watermark();
    } catch {
      return; // the breaker and the channel tell outages
    }
    if (faults !== this.faults || this.synced !== synced) return;
    if (found !== null && found.epoch === synced.epoch && found.mark >= synced.mark) {
      this.synced = found;
      this.seeWatermark(found);
      return;
    }
    this.desync(!found ? 'it lost its watermark' : found.epoch !== synced.epoch ? `its epoch is now ${found.epoch}` : 'its watermark went back');
    this.trusted();
  }

  private seeWatermark(watermark: Watermark): void {
    this.watermarkSeen = watermark.mark;
  }

  private async reconcileRound(): Promise<void> {
    if (!this.trusted()) return;
    await this.reconciler?.round(this.leaseMs);
  }

  private keep(accessHash: string, entry: Entry, ttlMs: number): void {
    // A mark held here is never replaced by a session (a read that straddled it).
    if (entry !== REVOKED && this.local?.peek(accessHash) === REVOKED) return;
    // Never longer than the shared tier keeps it.
    if (ttlMs > 0) this.local?.set(accessHash, entry, { ttl: Math.min(this.localTtlMs, ttlMs) });
  }

  /** Another instance could not mark these hashes: answer them revoked here, and deliver the mark too. */
  private adopt(userId: string, accessHashes: readonly string[]): void {
    for (const hash of accessHashes) this.local?.set(hash, REVOKED);
    this.keepPending(userId, accessHashes);
  }

  private keepPending(userId: string, accessHashes: readonly string[]): void {
    for (const hash of accessHashes) this.pending.set(hash, userId);
    while (this.pending.size > MAX_PENDING) {
      this.pending.delete(this.pending.keys().next().value as string);
      this.logger.error('Too many undelivered cache revocations; dropped the oldest (reconciliation marks it)');
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
        for (const hash of hashes) {
          this.pending.delete(hash);
          this.untold.delete(hash);
        }
      } catch {
        await this.tellUntold();
        return;
      }
      // Instances that kept a copy while this one could not reach the tier drop it now.
      await this.tellOthers({ hashes });
    }
    this.logger.log('Delivered every pending cache revocation');
  }

  /**
   * Tells every instance again of the marks made here that the tier refused and whose first word
   * (`unmarked`) did not reach the channel: while the tier refuses writes but serves reads (out
   * of memory), an instance that heard neither would serve the live entry. Once one word has
   * reached the channel, every instance heard it or lost its subscription, and so fell out of
   * sync (it catches up before reading the tier again): no need to repeat it.
   */
  private async tellUntold(): Promise<void> {
    const marks = [...this.untold].flatMap((accessHash) => {
      const userId = this.pending.get(accessHash);
      return userId === undefined ? [] : [{ accessHash, userId }];
    });
    this.untold.clear();
    for (const [userId, hashes] of accessHashesByUser(marks)) {
      if (!(await this.tellOthers({ hashes, userId, unmarked: true }))) for (const hash of hashes) this.untold.add(hash);
    }
  }

  /** Publishes an invalidation; false when the channel did not take it. */
  private async tellOthers(invalidation: Invalidation): Promise<boolean> {
    try {
      await this.channel.publish(invalidation);
      return true;
    } catch (error) {
      // The others stop trusting their copies when they stop hearing their heartbeat; if they
      // still hear it, the next reconciliation round tells them again.
      this.warn('invalidation', error);
      return false;
    }
  }

  private warn(what: string, error: unknown): void {
    this.warning.warn(`Session cache ${what} failed, using PostgreSQL: ${(error as Error).message}`);
  }
}

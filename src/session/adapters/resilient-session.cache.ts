import { Logger } from '@nestjs/common';
import type { AdapterContext, AdapterLifecycle } from '../ports/adapter-lifecycle.js';
import { CachedSession, CacheLookup, REVOKED, SessionCache } from '../ports/session-cache.js';
import { accessHashesByUser } from '../ports/session-record.js';
import { ThrottledWarning } from '../runtime/throttled-warning.js';

/** Most revocation marks waiting for delivery; past this the oldest are dropped (and logged). */
const MAX_PENDING = 100_000;

/**
 * Makes the cache safe to lose: reads and fills that fail are misses, and a revocation mark that
 * could not be written (Redis down or frozen) is kept here and retried every `retryMs` until it
 * is delivered. Until then this instance answers `REVOKED` for those hashes itself.
 */
export class ResilientSessionCache extends SessionCache implements AdapterLifecycle {
  private readonly logger = new Logger('SessionCache');
  /** access hash → user id, for revocation marks not yet delivered. */
  private readonly pending = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private readonly warning = new ThrottledWarning('SessionCache', 5000);

  constructor(
    private readonly inner: SessionCache & AdapterLifecycle,
    private readonly retryMs = 200,
  ) {
    super();
  }

  override get backend(): string {
    return this.inner.backend;
  }

  async start(context: AdapterContext): Promise<void> {
    await this.inner.start?.(context);
  }

  /** Revocation marks waiting for the cache to come back. */
  get pendingRevocations(): number {
    return this.pending.size;
  }

  override peek(accessHash: string): CachedSession | typeof REVOKED | undefined {
    return this.pending.has(accessHash) ? REVOKED : this.inner.peek(accessHash);
  }

  async get(accessHash: string): Promise<CacheLookup> {
    if (this.pending.has(accessHash)) return REVOKED;
    try {
      return await this.inner.get(accessHash);
    } catch (error) {
      this.warn('read', error);
      return null;
    }
  }

  async set(accessHash: string, session: CachedSession, ttlSeconds: number): Promise<void> {
    if (this.pending.has(accessHash)) return;
    try {
      await this.inner.set(accessHash, session, ttlSeconds);
    } catch (error) {
      this.warn('write', error);
    }
  }

  async markRevoked(userId: string, accessHashes: readonly string[]): Promise<void> {
    if (accessHashes.length === 0) return;
    try {
      await this.inner.markRevoked(userId, accessHashes);
    } catch (error) {
      this.warn('revocation', error);
      for (const hash of accessHashes) this.pending.set(hash, userId);
      while (this.pending.size > MAX_PENDING) {
        const oldest = this.pending.keys().next().value as string;
        this.pending.delete(oldest);
        this.logger.error('Too many undelivered cache revocations; dropped the oldest (it ends with its cache TTL)');
      }
      this.scheduleRetry();
    }
  }

  async forget(userId: string, accessHashes: readonly string[]): Promise<void> {
    try {
      await this.inner.forget(userId, accessHashes);
    } catch (error) {
      this.warn('invalidation', error);
    }
  }

  async deleteUser(userId: string): Promise<void> {
    try {
      await this.inner.deleteUser(userId);
    } catch (error) {
      this.warn('invalidation', error);
    }
  }

  ping(): Promise<boolean> {
    return this.inner.ping();
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.inner.close?.();
  }

  /** Delivers pending marks, grouped by user; what fails stays for the next round. */
  async deliverPending(): Promise<void> {
    const marks = [...this.pending].map(([accessHash, userId]) => ({ accessHash, userId }));
    for (const [userId, hashes] of accessHashesByUser(marks)) {
      try {
        await this.inner.markRevoked(userId, hashes);
        for (const hash of hashes) this.pending.delete(hash);
      } catch {
        return;
      }
    }
    if (this.pending.size === 0) this.logger.log('Delivered every pending cache revocation');
  }

  private scheduleRetry(): void {
    if (this.timer) return;
    const tick = async () => {
      await this.deliverPending();
      this.timer = this.pending.size > 0 ? setTimeout(tick, this.retryMs).unref() : undefined;
    };
    this.timer = setTimeout(tick, this.retryMs).unref();
  }

  private warn(what: string, error: unknown): void {
    this.warning.warn(`Session cache ${what} failed, using PostgreSQL: ${(error as Error).message}`);
  }
}

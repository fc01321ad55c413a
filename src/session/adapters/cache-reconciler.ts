import { randomBytes } from 'node:crypto';
import { accessHashesByUser } from '../ports/session-record.js';
import type { SessionStore } from '../ports/session-store.js';
import type { SharedSessionTier, Watermark } from './shared-session-tier.js';

/**
 * How far behind the clock a watermark is set: an end is recorded with the time its instance
 * read from its clock, and committed later — after waiting up to 3 s for a pooled connection and
 * up to 5 s for its statement — so a query at `t` may not see every end recorded before `t`.
 * Covers that, and clock differences between instances.
 */
export const RECONCILE_MARGIN_MS = 10_000;
/** Access tokens read from the store per query. */
const BATCH = 1000;
/** The lease's name in the shared tier. */
const LEASE = 'wl';

/** A new epoch: 8 characters of [0-9a-z], 41 bits. */
export const newEpoch = () => (randomBytes(6).readUIntBE(0, 6) % 36 ** 8).toString(36).padStart(8, '0');

/**
 * Brings the shared tier up to date with the store, which records every end (`ended_at`, and
 * the access hash a rotation replaced): it marks revoked in the tier every access token that
 * stopped being valid since the tier's watermark, and moves the watermark forward.
 */
export class CacheReconciler {
  constructor(
    private readonly tier: SharedSessionTier,
    private readonly store: SessionStore,
    /** Tells every instance to drop its in-process copies of these hashes. */
    private readonly invalidate: (hashes: string[]) => Promise<void>,
    private readonly now: () => number,
  ) {}

  /**
   * What an instance does before it reads the tier again: takes the tier's watermark (or, when
   * it has none, starts a new epoch, which makes every entry it holds a miss) and marks every
   * end since it (unless `markEnds` is false: reconciliation switched off, for tests). Answers
   * the watermark this instance may trust the tier from.
   */
  async catchUp(markEnds = true): Promise<{ watermark: Watermark; marked: number }> {
    const watermark =
      (await this.tier.watermark()) ??
      (await this.tier.createWatermark({ epoch: newEpoch(), mark: this.now() - RECONCILE_MARGIN_MS }, RECONCILE_MARGIN_MS));
    const marked = markEnds ? await this.markSince(watermark.mark) : 0;
    return { watermark, marked };
  }

  /**
   * One periodic round, by the one instance that takes the lease (for `leaseMs`): marks every end
   * since the watermark — ends whose instance could not mark them, having lost the tier or
   * died — and moves the watermark to just before the query. Answers how many it marked, or
   * null when another instance holds the lease.
   */
  async round(leaseMs: number): Promise<number | null> {
    if (!(await this.tier.lease(LEASE, leaseMs))) return null;
    const watermark = await this.tier.watermark();
    if (!watermark) return null; // lost meanwhile: every instance catches up with a new epoch
    const queriedAt = this.now();
    const marked = await this.markSince(watermark.mark);
    await this.tier.advanceWatermark(watermark.epoch, queriedAt - RECONCILE_MARGIN_MS, RECONCILE_MARGIN_MS);
    return marked;
  }

  /**
   * Marks revoked every access token that stopped being valid at or after `since`, page by page,
   * and tells every instance. Marks every one, each time: a mark the tier lost without a sign
   * (a failover to a replica that lagged, behind a proxy that kept the connection) is written
   * again by every round that reads its end.
   */
  private async markSince(since: number): Promise<number> {
    let marked = 0;
    let after: { at: Date; accessHash: string } | undefined;
    for (;;) {
      const revoked = await this.store.revokedAccessSince(new Date(since), BATCH, after);
      await Promise.all([...accessHashesByUser(revoked)].map(([userId, hashes]) => this.tier.markRevoked(userId, hashes)));
      if (revoked.length > 0) await this.invalidate(revoked.map((r) => r.accessHash));
      marked += revoked.length;
      if (revoked.length < BATCH) return marked;
      after = revoked[revoked.length - 1];
    }
  }
}

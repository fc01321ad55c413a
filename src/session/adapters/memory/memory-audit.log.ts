import { AuditLog, AuditPage, AuditQuery, fitForAudit, type UserCount } from '../../ports/audit-log.js';
import type { SessionEvent, SessionEventType } from '../../session.events.js';

/** The audit trail in this process, bounded: for tests and the in-memory default; lost on restart. */
export class MemoryAuditLog extends AuditLog {
  /** Oldest first, as appended. */
  private entries: SessionEvent[] = [];

  /** @param maxEntries entries kept at most; the oldest go first */
  constructor(private readonly maxEntries = 10_000) {
    super();
  }

  async append(events: readonly SessionEvent[]): Promise<void> {
    this.entries.push(...events.map(fitForAudit));
    if (this.entries.length > this.maxEntries) this.entries.splice(0, this.entries.length - this.maxEntries);
  }

  async page(query: AuditQuery): Promise<AuditPage> {
    const matching = this.entries
      .filter((e) => (query.userId === undefined || e.userId === query.userId) && (query.type === undefined || e.type === query.type))
      .reverse()
      .sort((a, b) => b.at.getTime() - a.at.getTime());
    return { items: matching.slice(query.offset, query.offset + query.limit).map((e) => ({ ...e })), total: matching.length };
  }

  async countSince(types: readonly SessionEventType[], since: Date): Promise<Record<SessionEventType, number>> {
    const counts = Object.fromEntries(types.map((t) => [t, 0])) as Record<SessionEventType, number>;
    for (const e of this.entries) if (e.at > since && e.type in counts) counts[e.type] += 1;
    return counts;
  }

  async countWithDetailSince(type: SessionEventType, detailPrefix: string, since: Date): Promise<number> {
    return this.entries.filter((e) => e.type === type && e.at > since && e.detail?.startsWith(detailPrefix)).length;
  }

  async countByUserSince(type: SessionEventType, since: Date, limit: number): Promise<UserCount[]> {
    const counts = new Map<string, number>();
    for (const e of this.entries) {
      if (e.type === type && e.at > since && e.userId !== null) counts.set(e.userId, (counts.get(e.userId) ?? 0) + 1);
    }
    return [...counts]
      .map(([userId, count]) => ({ userId, count }))
      .sort((a, b) => b.count - a.count || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
      .slice(0, limit);
  }

  async deleteBefore(before: Date, batchSize: number): Promise<number> {
    let deleted = 0;
    this.entries = this.entries.filter((e) => {
      if (deleted < batchSize && e.at < before) {
        deleted += 1;
        return false;
      }
      return true;
    });
    return deleted;
  }
}

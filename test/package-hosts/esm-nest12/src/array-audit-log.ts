import { AuditLog, fitForAudit } from 'nest-session-module';
import type { AuditPage, AuditQuery, SessionEvent, SessionEventType, UserCount } from 'nest-session-module';

/**
 * The host's own adapter of an exported port, proven by the package's contract suite
 * (test/array-audit-log.spec.ts): the audit trail in an array, newest last.
 */
export class ArrayAuditLog extends AuditLog {
  private entries: SessionEvent[] = [];

  async append(events: readonly SessionEvent[]): Promise<void> {
    this.entries.push(...events.map(fitForAudit));
  }

  async page(query: AuditQuery): Promise<AuditPage> {
    const matching = this.entries
      .filter((e) => (query.userId === undefined || e.userId === query.userId) && (query.type === undefined || e.type === query.type))
      // Newest first; among entries of one moment, the last appended first (the sort is stable).
      .reverse()
      .sort((a, b) => b.at.getTime() - a.at.getTime());
    return { items: matching.slice(query.offset, query.offset + query.limit).map((e) => ({ ...e })), total: matching.length };
  }

  async countSince(types: readonly SessionEventType[], since: Date): Promise<Record<SessionEventType, number>> {
    const counts = Object.fromEntries(types.map((t) => [t, 0])) as Record<SessionEventType, number>;
    for (const e of this.entries) if (e.at > since && e.type in counts) counts[e.type] += 1;
    return counts;
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

  async countWithDetailSince(type: SessionEventType, detailPrefix: string, since: Date): Promise<number> {
    return this.entries.filter((e) => e.type === type && e.at > since && e.detail?.startsWith(detailPrefix)).length;
  }

  async deleteBefore(before: Date, batchSize: number): Promise<number> {
    const old = this.entries.filter((e) => e.at < before).slice(0, batchSize);
    const doomed = new Set(old);
    this.entries = this.entries.filter((e) => !doomed.has(e));
    return old.length;
  }
}

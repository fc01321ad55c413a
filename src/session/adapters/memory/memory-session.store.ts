import { Injectable } from '@nestjs/common';
import {
  ClientSighting,
  Insertion,
  isLive,
  EndedCursor,
  EndedFilter,
  IssuedBeforeBatch,
  IssuedCursor,
  LiveWindow,
  NewSessionRecord,
  RecentClientsQuery,
  RevocationFilter,
  RevocationReason,
  RevokedAccess,
  Rotation,
  RotationTarget,
  SessionChange,
  SessionPage,
  SessionPageQuery,
  SessionRecord,
  SessionSummary,
} from '../../ports/session-record.js';
import { SessionStore } from '../../ports/session-store.js';

/** Most recently active first, then most recently created, then id descending: as the SQL orders. */
const byActivityDesc = (a: SessionRecord, b: SessionRecord) =>
  b.lastActivityAt.getTime() - a.lastActivityAt.getTime() ||
  b.createdAt.getTime() - a.createdAt.getTime() ||
  (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Oldest first, then by id: the SQL's `ORDER BY created_at, id` (UUIDs compare as their lower-case text). */
const byCreation = (a: Pick<SessionRecord, 'createdAt' | 'id'>, b: Pick<SessionRecord, 'createdAt' | 'id'>) =>
  a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A copy that shares nothing mutable with the stored record. */
const copy = (s: SessionRecord): SessionRecord => ({
  ...s,
  roles: [...s.roles],
  data: s.data === null ? null : structuredClone(s.data),
});

/** Sessions in this process: for unit tests and examples, lost on restart. */
@Injectable()
export class MemorySessionStore extends SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  /** Rotated-away refresh hash → the session, when, and the access hash that rotation replaced. */
  private readonly rotated = new Map<string, { sessionId: string; at: Date; accessHash: string }>();
  /** Concurrency samples: epoch ms → live sessions. */
  private readonly samples = new Map<number, number>();

  async insert(session: NewSessionRecord): Promise<Insertion> {
    const replaced: SessionRecord[] = [];
    if (session.deviceId !== null) {
      for (const other of this.sessions.values()) {
        if (other.userId !== session.userId || other.deviceId !== session.deviceId) continue;
        if (other.revokedAt !== null || other.endedAt !== null) continue;
        this.end(other, 'replaced', session.createdAt);
        replaced.push(copy(other));
      }
    }
    return { session: this.store(session), replaced };
  }

  async insertIfAbsent(session: NewSessionRecord): Promise<SessionRecord | null> {
    return this.sessions.has(session.id) ? null : this.store(session);
  }

  /** Keeps a new session as it is (no replacement); returns a copy. */
  private store(session: NewSessionRecord): SessionRecord {
    const record: SessionRecord = copy({
      ...session,
      previousRefreshHash: null,
      previousAccessHash: null,
      rotatedAt: null,
      rotationSecret: null,
      revokedAt: null,
      revokedReason: null,
      endedAt: null,
      version: 1,
    });
    this.sessions.set(record.id, record);
    return copy(record);
  }

  async findByAccessHash(accessHash: string): Promise<SessionRecord | null> {
    return this.copy(this.find((s) => s.accessHash === accessHash));
  }

  async findById(id: string): Promise<SessionRecord | null> {
    return this.copy(this.sessions.get(id));
  }

  async findByRotatedRefreshHash(refreshHash: string): Promise<SessionRecord | null> {
    const rotation = this.rotated.get(refreshHash);
    return rotation === undefined ? null : this.copy(this.sessions.get(rotation.sessionId));
  }

  async rotate(
    refreshHash: string,
    target: RotationTarget,
    window: LiveWindow,
  ): Promise<Rotation | null> {
    const session = this.find((s) => s.refreshHash === refreshHash && isLive(s, window));
    if (!session) return null;
    const replacedAccessHash = session.accessHash;
    if (!this.rotated.has(refreshHash)) this.rotated.set(refreshHash, { sessionId: session.id, at: window.now, accessHash: replacedAccessHash });
    const expiresAt = minDate(maxDate(session.expiresAt, target.expiresAt), session.absoluteExpiresAt);
    Object.assign(session, {
      previousRefreshHash: session.refreshHash,
      previousAccessHash: replacedAccessHash,
      rotatedAt: window.now,
      rotationSecret: target.rotationSecret,
      accessHash: target.accessHash,
      refreshHash: target.refreshHash,
      accessExpiresAt: minDate(target.accessExpiresAt, expiresAt),
      expiresAt,
      lastActivityAt: maxDate(session.lastActivityAt, window.now),
      version: session.version + 1,
    });
    return { session: copy(session), replacedAccessHash };
  }

  async touch(id: string, at: Date): Promise<void> {
    const session = this.sessions.get(id);
    if (session && session.revokedAt === null && session.endedAt === null) {
      session.lastActivityAt = maxDate(session.lastActivityAt, at);
    }
  }

  async touchMany(entries: ReadonlyArray<{ id: string; at: Date }>): Promise<void> {
    for (const { id, at } of entries) await this.touch(id, at);
  }

  async extend(id: string, expiresAt: Date, window: LiveWindow): Promise<SessionRecord | null> {
    const session = this.sessions.get(id);
    if (!session || !isLive(session, window)) return null;
    session.expiresAt = minDate(maxDate(session.expiresAt, expiresAt), session.absoluteExpiresAt);
    session.version += 1;
    return copy(session);
  }

  async changeLive(userId: string, change: SessionChange, window: LiveWindow): Promise<SessionRecord[]> {
    return this.live(userId, window).map((session) => {
      if (change.roles !== undefined) session.roles = [...change.roles];
      if (change.data !== undefined) session.data = change.data === null ? null : structuredClone(change.data);
      session.version += 1;
      return copy(session);
    });
  }

  async revoke(
    filter: RevocationFilter,
    reason: RevocationReason,
    window: LiveWindow,
  ): Promise<SessionRecord[]> {
    const ended: SessionRecord[] = [];
    for (const session of this.sessions.values()) {
      if (!isLive(session, window)) continue;
      if (filter.id !== undefined && session.id !== filter.id) continue;
      if (filter.userId !== undefined && session.userId !== filter.userId) continue;
      if (filter.exceptId !== undefined && session.id === filter.exceptId) continue;
      if (filter.accessHash !== undefined && session.accessHash !== filter.accessHash) continue;
      if (filter.refreshHash !== undefined && session.refreshHash !== filter.refreshHash) continue;
      this.end(session, reason, window.now);
      ended.push(copy(session));
    }
    return ended;
  }

  async evictBeyond(
    userId: string,
    keep: number,
    window: LiveWindow,
    keepId?: string,
  ): Promise<SessionRecord[]> {
    const others = this.live(userId, window).filter((s) => s.id !== keepId);
    const keepOthers = keepId !== undefined && this.sessions.has(keepId) ? Math.max(0, keep - 1) : keep;
    return others.slice(keepOthers).map((session) => {
      this.end(session, 'evicted', window.now);
      return copy(session);
    });
  }

  async endedSince(filter: EndedFilter, since: Date, limit: number, after?: EndedCursor): Promise<SessionRecord[]> {
    const byEnd = (a: Pick<SessionRecord, 'endedAt' | 'id'>, b: Pick<SessionRecord, 'endedAt' | 'id'>) =>
      a.endedAt!.getTime() - b.endedAt!.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    return [...this.sessions.values()]
      .filter(
        (s) =>
          s.endedAt !== null &&
          s.endedAt >= since &&
          (after === undefined || byEnd(s, after) > 0) &&
          (filter.userId === undefined || s.userId === filter.userId) &&
          (filter.createdBefore === undefined || s.createdAt < filter.createdBefore),
      )
      .sort(byEnd)
      .slice(0, limit)
      .map(copy);
  }

  async endIssuedBefore(
    before: Date,
    at: Date,
    reason: RevocationReason,
    limit: number,
    after?: IssuedCursor,
  ): Promise<IssuedBeforeBatch> {
    const batch = [...this.sessions.values()]
      .filter((s) => s.createdAt < before && s.revokedAt === null && s.endedAt === null && (!after || byCreation(s, after) > 0))
      .sort(byCreation)
      .slice(0, limit);
    const ended = batch.map((session) => {
      this.end(session, reason, at);
      return copy(session);
    });
    const last = batch[batch.length - 1];
    return { ended, next: batch.length < limit ? null : { createdAt: new Date(last.createdAt), id: last.id } };
  }

  async recentClients(query: RecentClientsQuery): Promise<ClientSighting[]> {
    return [...this.sessions.values()]
      .filter((s) => s.userId === query.userId && s.createdAt >= query.since && s.id !== query.exceptId)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .slice(0, query.limit)
      .map((s) => ({ createdAt: new Date(s.createdAt), ipAddress: s.ipAddress, userAgent: s.userAgent, deviceId: s.deviceId }));
  }

  async listLive(userId: string, window: LiveWindow): Promise<SessionRecord[]> {
    return this.live(userId, window).map(copy);
  }

  async countLive(userId: string | undefined, window: LiveWindow): Promise<number> {
    return this.live(userId, window).length;
  }

  async pageLive(query: SessionPageQuery, window: LiveWindow): Promise<SessionPage> {
    const live = this.live(query.userId, window);
    return {
      items: live.slice(query.offset, query.offset + query.limit).map(copy),
      total: live.length,
    };
  }

  async deleteEnded(before: Date, idleTtlSeconds: number, batchSize: number): Promise<number> {
    const idleBefore = before.getTime() - idleTtlSeconds * 1000;
    let deleted = 0;
    for (const [id, s] of this.sessions) {
      if (deleted >= batchSize) break;
      // As the SQL store reads it: a recorded end (revocation, or the sweep's `endedAt`) decides;
      // a session with none ended when its time ran out.
      const open = s.revokedAt === null && s.endedAt === null;
      const ended =
        (s.revokedAt !== null && s.revokedAt < before) ||
        (s.endedAt !== null && s.endedAt < before) ||
        (open && (s.expiresAt < before || s.lastActivityAt.getTime() < idleBefore));
      if (ended) {
        this.sessions.delete(id);
        for (const [hash, rotation] of this.rotated) if (rotation.sessionId === id) this.rotated.delete(hash);
        deleted += 1;
      }
    }
    return deleted;
  }

  async deleteRotatedBefore(before: Date, batchSize: number): Promise<number> {
    let deleted = 0;
    for (const [hash, rotation] of this.rotated) {
      if (deleted >= batchSize) break;
      if (rotation.at < before) {
        this.rotated.delete(hash);
        deleted += 1;
      }
    }
    return deleted;
  }

  async markExpired(window: LiveWindow, idleTtlSeconds: number, batchSize: number): Promise<SessionRecord[]> {
    const marked: SessionRecord[] = [];
    for (const s of this.sessions.values()) {
      if (marked.length >= batchSize) break;
      if (s.revokedAt !== null || s.endedAt !== null) continue;
      if (s.expiresAt > window.now && s.lastActivityAt > window.activeSince) continue;
      s.endedAt = minDate(s.expiresAt, new Date(s.lastActivityAt.getTime() + idleTtlSeconds * 1000));
      s.version += 1;
      marked.push(copy(s));
    }
    return marked;
  }

  async revokedAccessSince(since: Date, limit: number, after?: { at: Date; accessHash: string }): Promise<RevokedAccess[]> {
    const ended = [...this.sessions.values()]
      .filter((s) => s.endedAt !== null && s.endedAt >= since)
      .map((s) => ({ userId: s.userId, accessHash: s.accessHash, at: s.endedAt! }));
    const rotations = [...this.rotated.values()]
      .filter((r) => r.at >= since && this.sessions.has(r.sessionId))
      .map((r) => ({ userId: this.sessions.get(r.sessionId)!.userId, accessHash: r.accessHash, at: r.at }));
    const key = (r: RevokedAccess) => [r.at.getTime(), r.accessHash] as const;
    const later = (a: readonly [number, string], b: readonly [number, string]) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
    return [...ended, ...rotations]
      .filter((r) => !after || later(key(r), [after.at.getTime(), after.accessHash]))
      .sort((a, b) => (later(key(a), key(b)) ? 1 : -1))
      .slice(0, limit)
      .map((r) => ({ ...r, at: new Date(r.at) }));
  }

  async summarize(window: LiveWindow, since: Date): Promise<SessionSummary> {
    const all = [...this.sessions.values()];
    const ended = all.filter((s) => s.endedAt !== null && s.endedAt > since);
    return {
      active: all.filter((s) => isLive(s, window)).length,
      createdSince: all.filter((s) => s.createdAt > since).length,
      revokedSince: all.filter((s) => s.revokedAt !== null && s.revokedAt > since).length,
      expiredSince: ended.filter((s) => s.revokedAt === null).length,
      endedSince: ended.length,
      endedLifetimeSeconds: ended.reduce((sum, s) => sum + (s.endedAt!.getTime() - s.createdAt.getTime()) / 1000, 0),
    };
  }

  async recordConcurrency(at: Date, active: number, keepSince: Date): Promise<void> {
    this.samples.set(at.getTime(), Math.max(active, this.samples.get(at.getTime()) ?? 0));
    for (const t of this.samples.keys()) if (t < keepSince.getTime()) this.samples.delete(t);
  }

  async peakConcurrency(since: Date): Promise<number> {
    let peak = 0;
    for (const [t, active] of this.samples) if (t >= since.getTime() && active > peak) peak = active;
    return peak;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  private live(userId: string | undefined, window: LiveWindow): SessionRecord[] {
    return [...this.sessions.values()]
      .filter((s) => (userId === undefined || s.userId === userId) && isLive(s, window))
      .sort(byActivityDesc);
  }

  private find(match: (s: SessionRecord) => boolean): SessionRecord | undefined {
    for (const session of this.sessions.values()) if (match(session)) return session;
    return undefined;
  }

  private end(session: SessionRecord, reason: RevocationReason, at: Date): void {
    session.revokedAt = at;
    session.revokedReason = reason;
    session.endedAt = at;
    session.version += 1;
  }

  private copy(session: SessionRecord | undefined): SessionRecord | null {
    return session ? copy(session) : null;
  }
}

function minDate(a: Date, b: Date): Date {
  return a < b ? a : b;
}

function maxDate(a: Date, b: Date): Date {
  return a > b ? a : b;
}

import type {
  ClientSighting,
  EndedCursor,
  EndedFilter,
  Insertion,
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
} from './session-record.js';

/**
 * The source of truth for sessions. Every write is one atomic statement, so concurrent
 * requests on many instances never see half a change.
 *
 * Adapters: `TypeOrmSessionStore` (PostgreSQL or PGlite), `MemorySessionStore` (tests).
 * Both pass `test/contract/session-store.contract.ts`.
 */
export abstract class SessionStore {
  /**
   * Stores a new session and returns it as stored. When it has a device id, every session of the
   * same user and device id that has not ended (revoked or recorded as ended; one whose time ran
   * out but that the sweep has not recorded yet counts too) ends in the same atomic step, with
   * reason `replaced`: a user never has two live sessions on one device id, even when two logins
   * with it run at once (the later one wins).
   */
  abstract insert(session: NewSessionRecord): Promise<Insertion>;

  /**
   * Stores a new session unless one with this id exists (then nothing changes); it replaces
   * nothing (give it no device id). Atomic: of concurrent calls with one id, exactly one stores it.
   * @returns the session as stored, or null when the id was taken
   */
  abstract insertIfAbsent(session: NewSessionRecord): Promise<SessionRecord | null>;

  /** The session whose current access token has this hash, live or not. */
  abstract findByAccessHash(accessHash: string): Promise<SessionRecord | null>;

  /** The session with this id, live or not. */
  abstract findById(id: string): Promise<SessionRecord | null>;

  /**
   * The session that once rotated away a refresh token with this hash (any rotation back whose
   * record `deleteRotatedBefore` has not deleted yet).
   */
  abstract findByRotatedRefreshHash(refreshHash: string): Promise<SessionRecord | null>;

  /**
   * Replaces the tokens of the live session whose current refresh token has `refreshHash`.
   * The session's end only moves forward and never past its absolute expiry; the access
   * token never outlives the session. The replaced refresh hash is remembered, with the moment
   * and the access hash it replaced, for `findByRotatedRefreshHash` and `revokedAccessSince`
   * until `deleteRotatedBefore` passes that moment or the session is deleted. Atomic: of two
   * concurrent calls with one hash, at most one succeeds.
   * @returns null when no live session has that refresh token
   */
  abstract rotate(
    refreshHash: string,
    target: RotationTarget,
    window: LiveWindow,
  ): Promise<Rotation | null>;

  /** Moves last activity forward to `at` (never backward) on a live session. */
  abstract touch(id: string, at: Date): Promise<void>;

  /** `touch` for many sessions in one statement (the write-behind of last activity). */
  abstract touchMany(entries: ReadonlyArray<{ id: string; at: Date }>): Promise<void>;

  /**
   * Moves the end of a live session forward to `expiresAt`, never past its absolute expiry and
   * never backward. @returns the session after the change, or null when it is not live
   */
  abstract extend(id: string, expiresAt: Date, window: LiveWindow): Promise<SessionRecord | null>;

  /**
   * Writes `change` to every live session of a user, and moves each one's `version` forward, in
   * one atomic step: a read sees all of a session's change or none of it, and a session read
   * before the change has a lower version than after (what the cache's `supersede` refuses).
   * @returns the sessions after the change
   */
  abstract changeLive(userId: string, change: SessionChange, window: LiveWindow): Promise<SessionRecord[]>;

  /** Ends the live sessions that match `filter`. @returns them, as they were ended */
  abstract revoke(
    filter: RevocationFilter,
    reason: RevocationReason,
    window: LiveWindow,
  ): Promise<SessionRecord[]>;

  /**
   * Ends a user's least recently used live sessions beyond the `keep` most recent ones, with
   * reason `evicted`. `keepId` (the session just opened) is never evicted and counts as one of
   * the `keep`.
   */
  abstract evictBeyond(
    userId: string,
    keep: number,
    window: LiveWindow,
    keepId?: string,
  ): Promise<SessionRecord[]>;

  /**
   * What a login does once its session is stored: `evictBeyond(userId, keep, window, keepId)`,
   * then, given `recent` (of the same user), `recentClients(recent)` for the new-device check.
   * An adapter may answer both with one statement (the PostgreSQL store does); this default makes
   * the two calls. `recentClients` is null when `recent` is, and when the history could not be
   * read (the caller may then ask `recentClients` itself); the eviction's errors are thrown.
   */
  async evictBeyondThenRecentClients(
    userId: string,
    keep: number,
    window: LiveWindow,
    keepId: string | undefined,
    recent: RecentClientsQuery | null,
  ): Promise<{ evicted: SessionRecord[]; recentClients: ClientSighting[] | null }> {
    const evicted = await this.evictBeyond(userId, keep, window, keepId);
    if (recent === null) return { evicted, recentClients: null };
    try {
      return { evicted, recentClients: await this.recentClients(recent) };
    } catch {
      return { evicted, recentClients: null };
    }
  }

  /**
   * Ends, at `at` and with `reason`, the sessions created before `before` that have not ended
   * (neither revoked nor recorded as expired — whether or not their time ran out, so none of them
   * can come back), at most `limit` of them per call: the first `limit` in `(createdAt, id)`
   * order after `after`. One call is one batch, so no statement locks every row at once.
   * @returns the sessions it ended, oldest first, and the `after` of the next call (null once none is left)
   */
  abstract endIssuedBefore(
    before: Date,
    at: Date,
    reason: RevocationReason,
    limit: number,
    after?: IssuedCursor,
  ): Promise<IssuedBeforeBatch>;

  /**
   * The sessions matching `filter` whose end was recorded at or after `since` (revoked, evicted
   * or recorded as expired), at most `limit`, in `(endedAt, id)` order after `after` (keyset
   * paging; the `ended_at` index's range). What a call that answers for ends another call wrote
   * ("log out everywhere" while a logout is under way) marks in the cache, since the writing call
   * may not have marked them yet.
   */
  abstract endedSince(filter: EndedFilter, since: Date, limit: number, after?: EndedCursor): Promise<SessionRecord[]>;

  /**
   * The clients (address, user agent, device id) of a user's sessions created at or after
   * `since`, live or ended (until the cleanup deletes them), newest first, at most `limit`, but
   * for `exceptId`: what a login is compared with to tell a new device or network. One range of
   * an index on `(user_id, created_at)`.
   */
  abstract recentClients(query: RecentClientsQuery): Promise<ClientSighting[]>;

  /** A user's live sessions, most recently active first. */
  abstract listLive(userId: string, window: LiveWindow): Promise<SessionRecord[]>;

  /** How many live sessions a user has; with `userId` undefined, every user together. */
  abstract countLive(userId: string | undefined, window: LiveWindow): Promise<number>;

  /** A page of live sessions, optionally of one user, most recently active first. */
  abstract pageLive(query: SessionPageQuery, window: LiveWindow): Promise<SessionPage>;

  /**
   * Deletes up to `batchSize` sessions that ended (revoked, expired or idle) before `before`. A
   * session whose end is recorded (`revokedAt`, or `endedAt` from the expiry sweep) ended then;
   * one with none ended when it expired or went idle.
   * @returns how many were deleted; call again until it returns less than `batchSize`
   */
  abstract deleteEnded(before: Date, idleTtlSeconds: number, batchSize: number): Promise<number>;

  /**
   * Deletes up to `batchSize` of the rotation records (a rotated-away refresh hash, its session,
   * when, the access hash it replaced) kept since a rotation before `before`, live session or not;
   * the sessions themselves stay. Afterwards `findByRotatedRefreshHash` no longer finds the
   * session by those hashes — `SessionService.refresh` then answers such a token 401 `unknown`
   * instead of revoking the session as reuse — and `revokedAccessSince` no longer lists those
   * access hashes. The cleanup calls it with `before` = now − max(`refreshTtl`, `accessTtl`):
   * by then such a refresh token would have run out had it never been rotated, and the access
   * token the rotation replaced has expired (see `SessionCleanupService`). Find them without
   * reading the records kept (the TypeORM store reads one range of an index on the rotation
   * time).
   * @returns how many were deleted; call again until it returns less than `batchSize`
   */
  abstract deleteRotatedBefore(before: Date, batchSize: number): Promise<number>;

  /**
   * Records the end of up to `batchSize` sessions whose time ran out — expired by
   * `window.now`, or last active at or before `window.activeSince` — and that were neither
   * revoked nor recorded yet: `endedAt` becomes the moment their time ran out (the earlier of
   * their expiry and last activity + `idleTtlSeconds`). Each session is returned once, by one
   * caller, ever.
   * @returns them, as they were marked; call again until it returns less than `batchSize`
   */
  abstract markExpired(window: LiveWindow, idleTtlSeconds: number, batchSize: number): Promise<SessionRecord[]>;

  /**
   * The access hashes that stopped being valid at or after `since` — of the sessions that ended
   * (revoked, or recorded as expired) and of every rotation since — oldest first, at most `limit`,
   * after `after` (keyset paging on `(at, accessHash)`). What a cache that could not be told for a
   * while must mark revoked before it is trusted again.
   */
  abstract revokedAccessSince(since: Date, limit: number, after?: { at: Date; accessHash: string }): Promise<RevokedAccess[]>;

  /** Counts for the statistics, over every user, each answered by an index range. */
  abstract summarize(window: LiveWindow, since: Date): Promise<SessionSummary>;

  /** Keeps a sample of how many sessions were live at `at`, and forgets samples older than `keepSince`. */
  abstract recordConcurrency(at: Date, active: number, keepSince: Date): Promise<void>;

  /** The largest sample taken since `since`, or 0. */
  abstract peakConcurrency(since: Date): Promise<number>;

  /** True when the store answers. */
  abstract ping(): Promise<boolean>;
}

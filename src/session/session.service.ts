import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { createHmac, randomUUID } from 'node:crypto';
import {
  InvalidNotBeforeError,
  InvalidSessionChangeError,
  InvalidTokenError,
  InvalidTokenReason,
  RefreshTokenReuseError,
  SessionNotFoundError,
} from './errors/session.errors.js';
import { SessionMetrics } from './metrics/session-metrics.js';
import { SessionEventPublisher } from './session-event.publisher.js';
import { Clock } from './ports/clock.js';
import { CachedSession, REVOKED, SessionCache, UNAVAILABLE } from './ports/session-cache.js';
import { ActivityRecorder } from './activity-recorder.js';
import { SharedReads } from './shared-reads.js';
import {
  accessHashesByUser,
  ClientSighting,
  EndedCursor,
  EndedFilter,
  isLive,
  IssuedCursor,
  LiveWindow,
  liveWindow,
  NewSessionRecord,
  RecentClientsQuery,
  RevocationFilter,
  RevocationReason,
  SessionChange,
  SessionInfo,
  SessionRecord,
  toSessionInfo,
} from './ports/session-record.js';
import { SessionStore } from './ports/session-store.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';
import type { ResolvedSessionOptions } from './session.options.js';
import type {
  AuthenticatedSession,
  CreateSessionInput,
  IssuedSession,
  IssuedTokens,
  PresentedTokens,
} from './session.types.js';
import { bindingBroken, ClientContext, networkOf, userAgentFingerprint } from './session-binding.js';
import { SessionEvent, SessionEventType } from './session.events.js';
import { deriveToken, hashToken, isWellFormed, mintRotationSecret, mintToken, sameHash, verifyToken } from './tokens.js';

const CLEANUP_BATCH = 1000;
/** Sessions ended per statement by `endSessionsIssuedBefore`. */
const NOT_BEFORE_BATCH = 1000;
/**
 * How far back a call that answers for ends looks for ends another call wrote and may not have
 * marked in the cache yet (its call still under way, or its instance dead before it could: the
 * cache's reconciliation then marks them within its interval, 5 s by default, plus a 10 s margin).
 */
const ANSWERED_END_LOOKBACK_MS = 30_000;
/** Ended sessions read per query when marking the ends a call answers for. */
const ANSWERED_END_BATCH = 1000;

/**
 * The session lifecycle: open, validate, refresh (rotate), extend, revoke, list, clean up.
 * The store is the truth and is written first; the cache is filled on reads and cleared after
 * every write that ends or changes a session.
 */
@Injectable()
export class SessionService implements OnApplicationShutdown {
  private readonly logger = new Logger(SessionService.name);
  /**
   * Store reads (and the fills after them) per access hash, shared by concurrent misses; a miss
   * never shares a read that began before it (that read may predate an end already answered).
   */
  private readonly loading = new SharedReads<string, CachedSession | null>((accessHash) => this.load(accessHash));
  private readonly activity: ActivityRecorder;
  private sharedTierName?: string;

  constructor(
    private readonly store: SessionStore,
    private readonly cache: SessionCache,
    private readonly clock: Clock,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Optional() private readonly events: SessionEventPublisher = new SessionEventPublisher(),
    @Optional() private readonly metrics: SessionMetrics = new SessionMetrics(null),
  ) {
    this.activity = new ActivityRecorder(store);
  }

  /** Writes pending activity before the app stops. */
  async onApplicationShutdown(): Promise<void> {
    await this.activity.flush();
  }

  /** Writes the last-activity notes waiting for the next batch now. */
  flushActivity(): Promise<void> {
    return this.activity.flush();
  }

  /**
   * Opens a session for a user who just proved who they are. It replaces (ends, reason
   * `replaced`) the user's session on the same device id and the one of the tokens the client
   * presented, then evicts the least recently used beyond the limit.
   */
  async create(input: CreateSessionInput): Promise<IssuedSession> {
    return (await this.createReadingHistory(input, () => null)).issued;
  }

  /**
   * `create`, also reading the history the new-device check compares the session with
   * (`NewDeviceDetector.historyQuery`) along with the eviction: one store call for both.
   * @returns the session, and the history (null when `historyOf` asks none, or it was not read)
   */
  async createReadingHistory(
    input: CreateSessionInput,
    historyOf: (session: SessionRecord) => RecentClientsQuery | null,
  ): Promise<{ issued: IssuedSession; history: ClientSighting[] | null }> {
    const now = new Date(this.clock.now());
    const pair = this.mintPair(now);
    const { session, replaced: sameDevice } = await this.store.insert(this.newRecord(input, randomUUID(), pair, now));
    const sameClient = await this.endPresented(input.userId, session.id, input.presented ?? {}, now);
    return this.opened(session, pair, now, { sameDevice, sameClient }, null, historyOf(session));
  }

  /**
   * Opens a session for a user proven by a credential from elsewhere (a legacy session being
   * upgraded), at most one per `origin` however many calls race, on any instance: the session's
   * id and tokens are derived from `origin` under the signing key, so every racing call answers
   * the same pair. A later call answers that pair again while the session still holds it. The
   * session has no device id (a racing call must not replace the winner's session as "the same
   * device"), and replaces nothing.
   * @param origin identifies the credential; as secret as the credential (never logged, never stored)
   * @param detail the `login` event's detail (e.g. `migrated from express-session`)
   * @returns null when the session of this origin exists but these tokens no longer open it (it ended, or was refreshed)
   */
  async createOnce(input: CreateSessionInput, origin: string, detail: string): Promise<IssuedSession | null> {
    const now = new Date(this.clock.now());
    const pair = {
      accessToken: deriveToken('access', this.options.secrets, `origin|${origin}`, ''),
      refreshToken: deriveToken('refresh', this.options.secrets, `origin|${origin}`, ''),
      accessExpiresAt: this.after(now, this.options.accessTtl),
      refreshExpiresAt: this.after(now, this.options.refreshTtl),
    };
    const id = derivedUuid(this.options.secrets[0], origin);
    const inserted = await this.store.insertIfAbsent(this.newRecord({ ...input, deviceId: null }, id, pair, now));
    if (inserted) return (await this.opened(inserted, pair, now, {}, detail)).issued;
    const existing = await this.store.findById(id);
    if (!existing || !isLive(existing, this.window(now)) || !sameHash(existing.accessHash, hashToken(pair.accessToken))) return null;
    return { session: toSessionInfo(existing), tokens: this.tokens(pair.accessToken, pair.refreshToken, existing, now) };
  }

  private newRecord(input: CreateSessionInput, id: string, pair: ReturnType<SessionService['mintPair']>, now: Date): NewSessionRecord {
    const absoluteExpiresAt = this.after(now, this.options.absoluteTtl);
    const expiresAt = pair.refreshExpiresAt < absoluteExpiresAt ? pair.refreshExpiresAt : absoluteExpiresAt;
    return {
      id,
      userId: input.userId,
      roles: [...input.roles],
      accessHash: hashToken(pair.accessToken),
      refreshHash: hashToken(pair.refreshToken),
      accessExpiresAt: pair.accessExpiresAt < expiresAt ? pair.accessExpiresAt : expiresAt,
      expiresAt,
      absoluteExpiresAt,
      createdAt: now,
      authenticatedAt: now,
      lastActivityAt: now,
      ipAddress: input.ipAddress ?? null,
      userAgent: input.userAgent ?? null,
      deviceName: input.deviceName ?? null,
      deviceType: input.deviceType ?? null,
      deviceId: input.deviceId ?? null,
      data: input.data ?? null,
    };
  }

  /**
   * A session just stored: ends what it replaced (`sameDevice`, `sameClient`: reason `replaced`,
   * already ended in the store) and what the per-user limit evicts, tells subscribers, hands out
   * its tokens.
   */
  private async opened(
    session: SessionRecord,
    pair: { accessToken: string; refreshToken: string },
    now: Date,
    replaced: { sameDevice?: SessionRecord[]; sameClient?: SessionRecord[] } = {},
    detail: string | null = null,
    historyQuery: RecentClientsQuery | null = null,
  ): Promise<{ issued: IssuedSession; history: ClientSighting[] | null }> {
    const { sameDevice = [], sameClient = [] } = replaced;
    await this.activity.flush(); // evict by up-to-date last activity
    const { evicted, recentClients: history } = await this.store.evictBeyondThenRecentClients(
      session.userId,
      this.options.maxSessionsPerUser,
      this.window(now),
      session.id,
      historyQuery,
    );
    await this.forget([...sameDevice, ...sameClient, ...evicted]);
    this.emit('login', session, now, detail);
    for (const ended of sameDevice) this.emit('replaced', ended, now, 'same device');
    for (const ended of sameClient) this.emit('replaced', ended, now, 'same client');
    for (const ended of evicted) this.emit('evicted', ended, now);
    return { issued: { session: toSessionInfo(session), tokens: this.tokens(pair.accessToken, pair.refreshToken, session, now) }, history };
  }

  /**
   * Ends the live session of `userId` that the presented tokens are the current ones of (but not
   * `newId`): what the client was signed in with before this login. Forged tokens cost no query.
   */
  private async endPresented(userId: string, newId: string, presented: PresentedTokens, now: Date): Promise<SessionRecord[]> {
    const { accessToken, refreshToken } = presented;
    const filters: RevocationFilter[] = [];
    if (verifyToken(accessToken, 'access', this.options.secrets)) filters.push({ accessHash: hashToken(accessToken as string) });
    if (verifyToken(refreshToken, 'refresh', this.options.secrets)) filters.push({ refreshHash: hashToken(refreshToken as string) });
    const ended: SessionRecord[] = [];
    for (const filter of filters) {
      ended.push(...(await this.store.revoke({ ...filter, userId, exceptId: newId }, 'replaced', this.window(now))));
    }
    return ended;
  }

  /**
   * Checks an access token and returns what it proves. A malformed or forged token fails
   * before any I/O; a cached session costs no store query.
   * @throws InvalidTokenError
   */
  async validate(accessToken: unknown, client?: ClientContext): Promise<AuthenticatedSession> {
    return this.validateNow(accessToken, client);
  }

  /**
   * `validate`, answered at once — no I/O, no promise — when this process's cache holds the
   * session (or the token is refused outright); a promise when the answer needs the shared cache
   * or the store. For guards on the hot path. Throws (synchronously, or by rejecting) like `validate`.
   * @throws InvalidTokenError
   */
  validateNow(accessToken: unknown, client?: ClientContext): AuthenticatedSession | Promise<AuthenticatedSession> {
    if (!isWellFormed(accessToken, 'access')) return this.refuse('malformed');
    // A session this process holds was verified when it was cached, and a forged token cannot
    // have its hash: no HMAC for it. Anything else has its tag checked (in `validateRemotely`)
    // before any I/O, so a forged token never costs a cache or store round trip.
    const accessHash = hashToken(accessToken);
    const lookup = this.cache.peek(accessHash);
    if (lookup === undefined) return this.validateRemotely(accessToken, accessHash, client);
    this.metrics.cache(lookup === REVOKED ? 'revoked' : 'hit', 'memory');
    if (lookup === REVOKED) return this.refuse('revoked');
    const nowMs = this.clock.now();
    const state = this.expiryOf(lookup, nowMs);
    if (state === 'expired') return this.refuse('expired');
    // An idle-looking copy may only be older than the last activity: the store decides. Revoking
    // a hijacked session takes I/O. Both are left to `validateRemotely`.
    if (state === 'idle' || (client && bindingBroken(this.options.binding, lookup, client))) {
      return this.validateRemotely(accessToken, accessHash, client, state === 'idle');
    }
    return this.accept(lookup, nowMs);
  }

  /**
   * @param fromStore read the store even if the cache holds the session (its copy looked idle:
   *   the activity that keeps it alive may be newer than the copy)
   */
  private async validateRemotely(
    accessToken: string,
    accessHash: string,
    client?: ClientContext,
    fromStore = false,
  ): Promise<AuthenticatedSession> {
    try {
      if (!verifyToken(accessToken, 'access', this.options.secrets)) throw new InvalidTokenError('malformed');
      const nowMs = this.clock.now();
      let cached: CachedSession | null = null;
      if (!fromStore) {
        const lookup = await this.cache.get(accessHash);
        this.metrics.cache(lookup === null ? 'miss' : lookup === REVOKED ? 'revoked' : lookup === UNAVAILABLE ? 'error' : 'hit', this.sharedTier);
        if (lookup === REVOKED) throw new InvalidTokenError('revoked');
        if (lookup !== null && lookup !== UNAVAILABLE) cached = lookup;
      }
      if (cached && this.expiryOf(cached, nowMs) === 'idle') cached = null;
      cached ??= await this.readStore(accessHash);
      if (!cached) throw new InvalidTokenError('unknown');
      if (this.expiryOf(cached, nowMs) !== 'valid') throw new InvalidTokenError('expired');
      if (client && bindingBroken(this.options.binding, cached, client)) {
        await this.revokeHijacked(cached.id, client);
      }
      return this.accept(cached, nowMs);
    } catch (error) {
      this.metrics.validation(error instanceof InvalidTokenError ? error.detail : 'error');
      throw error;
    }
  }

  /** The tier label of what `cache.get` answers (`memory` for the in-process cache, `redis` else), named once. */
  private get sharedTier(): string {
    return (this.sharedTierName ??= this.cache.backend === 'memory' ? 'memory' : this.cache.backend.startsWith('redis') ? 'redis' : this.cache.backend);
  }

  /** The store's answer for a miss, counted as a lookup of tier `store`. */
  private async readStore(accessHash: string): Promise<CachedSession | null> {
    try {
      const found = await this.loading.get(accessHash);
      this.metrics.cache(found ? 'hit' : 'miss', 'store');
      return found;
    } catch (error) {
      this.metrics.cache('error', 'store');
      throw error;
    }
  }

  /**
   * A valid session: notes its activity (at most once per interval) and counts it. The cached
   * copy is never rewritten from itself: it lives until its TTL, then is read from the store again,
   * where the activity was written.
   */
  private accept(cached: CachedSession, nowMs: number): AuthenticatedSession {
    const intervalMs = this.options.activityWriteInterval * 1000;
    if (nowMs - cached.lastActivityAt >= intervalMs) {
      // The copy's activity is old: this process may have noted a newer one since it was cached.
      const lastActivityAt = Math.max(cached.lastActivityAt, this.activity.lastRecorded(cached.id));
      if (nowMs - lastActivityAt >= intervalMs) this.activity.record(cached.id, nowMs);
      cached = { ...cached, lastActivityAt: nowMs - lastActivityAt >= intervalMs ? nowMs : lastActivityAt };
    }
    this.metrics.validation('valid');
    return toAuthenticated(cached, this.options.idleTtl);
  }

  private refuse(reason: InvalidTokenReason): never {
    this.metrics.validation(reason);
    throw new InvalidTokenError(reason);
  }

  /**
   * Rotates a session's tokens: the refresh token presented stops working and a new pair is
   * issued. The new pair is derived from the presented token and a random secret kept with the
   * session for this rotation only, so presenting the token just rotated away again within
   * `refreshGrace` seconds (two tabs racing), from the client the session is bound to, returns
   * the same pair and logs nobody out. Any other rotated-away token is reuse: the whole session
   * is revoked — as long as the store remembers the rotation. The cleanup job forgets rotations
   * older than max(`refreshTtl`, `accessTtl`) (`SessionStore.deleteRotatedBefore`); a token
   * rotated away before that is still refused (only the session's current refresh token ever
   * rotates), but as `unknown` (401), and its session stays live.
   * @throws InvalidTokenError, RefreshTokenReuseError
   */
  async refresh(refreshToken: unknown, client?: ClientContext): Promise<IssuedSession> {
    try {
      return await this.rotate(refreshToken, client);
    } catch (error) {
      this.metrics.refresh(error instanceof InvalidTokenError ? error.detail : 'error');
      throw error;
    }
  }

  private async rotate(refreshToken: unknown, client?: ClientContext): Promise<IssuedSession> {
    if (!verifyToken(refreshToken, 'refresh', this.options.secrets)) {
      throw new InvalidTokenError('malformed');
    }
    const presented = refreshToken as string;
    const refreshHash = hashToken(presented);
    const now = new Date(this.clock.now());
    const rotationSecret = mintRotationSecret();
    const { accessToken, refreshToken: nextRefresh } = this.successors(presented, rotationSecret);
    const rotation = await this.store.rotate(
      refreshHash,
      {
        accessHash: hashToken(accessToken),
        refreshHash: hashToken(nextRefresh),
        accessExpiresAt: this.after(now, this.options.accessTtl),
        expiresAt: this.after(now, this.options.refreshTtl),
        rotationSecret,
      },
      this.window(now),
    );
    if (rotation) {
      await this.cache.markRevoked(rotation.session.userId, [rotation.replacedAccessHash]);
      if (client && bindingBroken(this.options.binding, toCached(rotation.session), client)) {
        await this.revokeHijacked(rotation.session.id, client);
      }
      this.emit('refresh', rotation.session, now);
      return { session: toSessionInfo(rotation.session), tokens: this.tokens(accessToken, nextRefresh, rotation.session, now) };
    }
    const session = await this.store.findByRotatedRefreshHash(refreshHash);
    if (!session || !isLive(session, this.window(now))) {
      throw new InvalidTokenError('unknown');
    }
    // A retry gets the pair of the rotation it lost to: derived with that rotation's secret.
    const retry = session.rotationSecret === null ? null : this.successors(presented, session.rotationSecret);
    if (retry && this.isGraceRetry(session, refreshHash, retry.refreshToken, now)) {
      // The retry hands out the live pair: it must pass what the rotation it repeats passed.
      if (client && bindingBroken(this.options.binding, toCached(session), client)) {
        await this.revokeHijacked(session.id, client);
      }
      // The rotation this retry repeats may not have marked the access token it replaced yet
      // (it marks after its commit, maybe on another instance): answer only once it is marked.
      if (session.previousAccessHash) await this.cache.markRevoked(session.userId, [session.previousAccessHash]);
      this.metrics.refresh('grace');
      return { session: toSessionInfo(session), tokens: this.tokens(retry.accessToken, retry.refreshToken, session, now) };
    }
    await this.revoke(session.id, 'reuse_detected');
    this.logger.warn(`Refresh token reuse detected; session ${session.id} revoked`);
    throw new RefreshTokenReuseError(session.id);
  }

  /**
   * Ends one session, whoever owns it.
   * @param actorId who ends it (for the audit trail); omit when the system does
   * @returns false when it was not live
   */
  async revoke(sessionId: string, reason: RevocationReason = 'revoked', actorId?: string): Promise<boolean> {
    const ended = await this.store.revoke({ id: sessionId }, reason, this.window(this.nowDate()));
    await this.forget(ended, reason, actorId);
    if (ended.length === 0) await this.markAlreadyEnded(sessionId);
    return ended.length > 0;
  }

  /**
   * Ends one session of this user.
   * @throws SessionNotFoundError when it is not a live session of the user
   */
  async revokeOwn(userId: string, sessionId: string, reason: RevocationReason = 'revoked'): Promise<void> {
    const ended = await this.store.revoke(
      { id: sessionId, userId },
      reason,
      this.window(this.nowDate()),
    );
    await this.forget(ended, reason, userId);
    if (ended.length === 0) {
      await this.markAlreadyEnded(sessionId, userId);
      throw new SessionNotFoundError();
    }
  }

  /**
   * Ends every live session of a user, or every one but `exceptSessionId`.
   * `actorId` is who does it (for the audit trail): the user, an admin, or omitted for the system.
   * @returns how many
   */
  async revokeAll(
    userId: string,
    options: { exceptSessionId?: string; reason?: RevocationReason; actorId?: string } = {},
  ): Promise<number> {
    const startedAt = this.nowDate();
    const ended = await this.store.revoke(
      { userId, exceptId: options.exceptSessionId },
      options.reason ?? 'revoked_all',
      this.window(startedAt),
    );
    await this.forget(ended, options.reason ?? 'revoked_all', options.actorId);
    // Sessions a concurrent call ended are answered for too ("every session ended"): mark them.
    await this.markEndedSince({ userId }, startedAt, ended);
    return ended.length;
  }

  /**
   * Ends every session issued before `before` that has not ended, of every user: the operators'
   * step after PostgreSQL was restored from a backup, when the sessions that ended after the
   * backup was taken are live again. Runs in batches of 1,000 sessions (one UPDATE each); each
   * batch is marked revoked in the cache and gets a `revoked` event (reason `not_before`) per
   * session, and the audit trail is written before the next batch.
   * @param before the moment: sessions created before it end; not in the future
   * @param actorId who asks (for the audit trail); omit when the system does
   * @returns how many sessions it ended
   * @throws InvalidNotBeforeError when `before` is not a valid date or lies in the future
   */
  async endSessionsIssuedBefore(before: Date, actorId?: string): Promise<number> {
    if (!(before instanceof Date) || Number.isNaN(before.getTime())) throw new InvalidNotBeforeError('invalid');
    if (before.getTime() > this.clock.now()) throw new InvalidNotBeforeError('future');
    const startedAt = this.nowDate();
    let total = 0;
    let after: IssuedCursor | undefined;
    do {
      // `now` per batch: each session's end is when it really ended, which is what the cache's
      // reconciliation reads from its watermark on (`revokedAccessSince`).
      const batch = await this.store.endIssuedBefore(before, this.nowDate(), 'not_before', NOT_BEFORE_BATCH, after);
      await this.forget(batch.ended, 'not_before', actorId);
      await this.events.flush(); // at most one batch of events waits in memory
      total += batch.ended.length;
      after = batch.next ?? undefined;
    } while (after);
    // Sessions issued before the moment that another call ended meanwhile are answered for too:
    // mark every recent end of them (this run's own again too: idempotent, and a rare step).
    await this.markEndedSince({ createdBefore: before }, startedAt);
    this.logger.log(`Ended ${total} sessions issued before ${before.toISOString()} (not_before)`);
    return total;
  }

  /**
   * Changes the roles and/or the `data` of every live session of a user without a new login: one
   * atomic store statement (each session's version moves forward), then every cached copy is
   * dropped on every instance (`SessionCache.supersede`), so the next request — on another
   * instance, once the invalidation reached it, within milliseconds — is judged by the new roles,
   * and a validation that read the store just before the change cannot put the old copy back.
   * With `roles`, a `roles_changed` event (audit trail) is emitted, even when the user has no
   * live session; its detail lists the new roles and how many sessions carry them.
   * @param change the fields to write (`data: null` clears it); roles: at most 32, each 1 to 64
   *   characters of letters, digits, `_`, `.`, `:` and `-`
   * @param actorId who changes them (for the audit trail); omit when the system does
   * @returns the sessions after the change
   * @throws InvalidSessionChangeError
   */
  async changeLiveSessions(userId: string, change: SessionChange, actorId?: string): Promise<SessionInfo[]> {
    const checked = checkedChange(change);
    const now = this.nowDate();
    const changed = await this.store.changeLive(userId, checked, this.window(now));
    await this.cache.supersede(
      userId,
      changed.map((s) => ({ accessHash: s.accessHash, version: s.version })),
    );
    if (checked.roles !== undefined) {
      const detail = `roles: ${checked.roles.join(',') || '(none)'}; sessions: ${changed.length}`;
      this.events.publish(new SessionEvent('roles_changed', now, userId, null, null, null, detail, actorId ?? null));
    }
    return changed.map(toSessionInfo);
  }

  /**
   * A revocation that found its session already ended answers at once — possibly before the
   * revocation that ended it (another request, maybe on another instance) has marked the cache.
   * So mark it here too (idempotent): once either is answered, the token is refused everywhere.
   */
  private async markAlreadyEnded(sessionId: string, userId?: string): Promise<void> {
    const record = await this.store.findById(sessionId);
    if (record && (userId === undefined || record.userId === userId)) await this.mark([record]);
  }

  /**
   * `markAlreadyEnded` for a call that answers for many sessions: marks the ones matching
   * `filter` that ended since shortly before the call began (`ANSWERED_END_LOOKBACK_MS`), but
   * for `alreadyMarked`, which the call ended and marked itself.
   */
  private async markEndedSince(filter: EndedFilter, startedAt: Date, alreadyMarked: SessionRecord[] = []): Promise<void> {
    const marked = new Set(alreadyMarked.map((s) => s.id));
    let after: EndedCursor | undefined;
    for (;;) {
      const page = await this.store.endedSince(filter, new Date(startedAt.getTime() - ANSWERED_END_LOOKBACK_MS), ANSWERED_END_BATCH, after);
      await this.mark(page.filter((s) => !marked.has(s.id)));
      if (page.length < ANSWERED_END_BATCH) return;
      const last = page[page.length - 1];
      after = { endedAt: last.endedAt!, id: last.id };
    }
  }

  /** Marks ended sessions revoked in the cache: their access tokens, and the ones their last rotation replaced. */
  private async mark(ended: SessionRecord[]): Promise<void> {
    const rotatedSince = this.after(this.nowDate(), -this.options.accessTtl);
    await Promise.all([...accessHashesByUser(ended, rotatedSince)].map(([userId, hashes]) => this.cache.markRevoked(userId, hashes)));
  }

  /** Reads a session from the store and caches it. */
  private async load(accessHash: string): Promise<CachedSession | null> {
    const readAt = this.clock.now();
    const record = await this.store.findByAccessHash(accessHash);
    if (!record || !sameHash(record.accessHash, accessHash)) return null;
    if (!isLive(record, this.window(new Date(readAt)))) return null;
    const cached = toCached(record);
    await this.fill(accessHash, cached, readAt, readAt);
    return cached;
  }

  /** A user's live sessions, most recently active first. */
  async list(userId: string): Promise<SessionInfo[]> {
    await this.activity.flush();
    return (await this.store.listLive(userId, this.window(this.nowDate()))).map(toSessionInfo);
  }

  /** How many live sessions a user has. */
  count(userId: string): Promise<number> {
    return this.store.countLive(userId, this.window(this.nowDate()));
  }

  /** A live session by id, or null. */
  async findById(sessionId: string): Promise<SessionInfo | null> {
    const session = await this.store.findById(sessionId);
    return session && isLive(session, this.window(this.nowDate())) ? toSessionInfo(session) : null;
  }

  /** A page of live sessions, optionally of one user (admin listing). */
  async page(query: { userId?: string; page: number; limit: number }): Promise<{ items: SessionInfo[]; total: number }> {
    await this.activity.flush();
    const { items, total } = await this.store.pageLive(
      { userId: query.userId, offset: (query.page - 1) * query.limit, limit: query.limit },
      this.window(this.nowDate()),
    );
    return { items: items.map(toSessionInfo), total };
  }

  /**
   * Lengthens a live session by `seconds` from now (never shortens it, never past its
   * absolute expiry).
   * @throws SessionNotFoundError
   */
  async extend(sessionId: string, seconds: number): Promise<SessionInfo> {
    const now = this.nowDate();
    const session = await this.store.extend(sessionId, this.after(now, seconds), this.window(now));
    if (!session) throw new SessionNotFoundError();
    await this.cache.forget(session.userId, [session.accessHash]);
    return toSessionInfo(session);
  }

  /**
   * Deletes sessions that ended more than `retentionSeconds` ago, in batches.
   * @returns how many rows were deleted
   */
  async cleanup(retentionSeconds = 0): Promise<number> {
    await this.activity.flush();
    const before = this.after(this.nowDate(), -retentionSeconds);
    let total = 0;
    for (;;) {
      const deleted = await this.store.deleteEnded(before, this.options.idleTtl, CLEANUP_BATCH);
      total += deleted;
      if (deleted < CLEANUP_BATCH) return total;
    }
  }

  /** A request from another client than the session's: end the session, tell subscribers, refuse. */
  private async revokeHijacked(sessionId: string, client: ClientContext): Promise<never> {
    const ended = await this.store.revoke({ id: sessionId }, 'hijack_suspected', this.window(this.nowDate()));
    await this.forget(ended);
    const now = this.nowDate();
    for (const s of ended) {
      this.events.publish(
        new SessionEvent('hijack_suspected', now, s.userId, s.id, client.ipAddress ?? null, client.userAgent ?? null, `binding: ${this.options.binding}`),
      );
    }
    this.logger.warn(`Session ${sessionId} used from another client (${this.options.binding} binding); revoked`);
    throw new InvalidTokenError('binding');
  }

  /**
   * The token presented is the one rotated away last, within the grace window, and the session
   * still holds exactly the pair derived from it: a retry, not a theft.
   */
  private isGraceRetry(session: SessionRecord, refreshHash: string, successor: string, now: Date): boolean {
    const graceMs = this.options.refreshGrace * 1000;
    return (
      graceMs > 0 &&
      session.previousRefreshHash !== null &&
      sameHash(session.previousRefreshHash, refreshHash) &&
      sameHash(session.refreshHash, hashToken(successor)) &&
      session.rotatedAt !== null &&
      now.getTime() - session.rotatedAt.getTime() <= graceMs
    );
  }

  private emit(
    type: SessionEventType,
    session: Pick<SessionRecord, 'userId' | 'id'> & Partial<SessionRecord>,
    at: Date,
    detail: string | null = null,
    actorId: string | null = null,
  ): void {
    this.events.publish(
      new SessionEvent(type, at, session.userId, session.id, session.ipAddress ?? null, session.userAgent ?? null, detail, actorId),
    );
  }

  /**
   * `expired` when the access token or the session ran out (exact times); `idle` when it looks
   * unused for `idleTtl` by this copy's last activity, which may be older than the truth.
   */
  private expiryOf(s: CachedSession, nowMs: number): 'valid' | 'expired' | 'idle' {
    if (s.accessExpiresAt <= nowMs || s.expiresAt <= nowMs) return 'expired';
    const activeSince = nowMs - this.options.idleTtl * 1000;
    if (s.lastActivityAt > activeSince) return 'valid';
    return this.activity.lastRecorded(s.id) > activeSince ? 'valid' : 'idle';
  }

  /** The pair a rotation with `rotationSecret` issues for the presented refresh token. */
  private successors(presented: string, rotationSecret: string): { accessToken: string; refreshToken: string } {
    return {
      accessToken: deriveToken('access', this.options.secrets, presented, rotationSecret),
      refreshToken: deriveToken('refresh', this.options.secrets, presented, rotationSecret),
    };
  }

  private mintPair(now: Date) {
    return {
      accessToken: mintToken('access', this.options.secrets),
      refreshToken: mintToken('refresh', this.options.secrets),
      accessExpiresAt: this.after(now, this.options.accessTtl),
      refreshExpiresAt: this.after(now, this.options.refreshTtl),
    };
  }

  private tokens(accessToken: string, refreshToken: string, session: Pick<SessionRecord, 'accessExpiresAt' | 'expiresAt'>, now: Date): IssuedTokens {
    const seconds = (end: Date) => Math.max(0, Math.floor((end.getTime() - now.getTime()) / 1000));
    return {
      accessToken,
      refreshToken,
      expiresIn: seconds(session.accessExpiresAt),
      refreshExpiresIn: seconds(session.expiresAt),
    };
  }

  /** Clears ended sessions from the cache and, given a reason, tells subscribers. */
  private async forget(ended: SessionRecord[], reason?: RevocationReason, actorId?: string): Promise<void> {
    await this.mark(ended);
    if (reason === undefined) return;
    const now = this.nowDate();
    const type: SessionEventType =
      reason === 'logout' ? 'logout' : reason === 'reuse_detected' ? 'reuse_detected' : 'revoked';
    for (const s of ended) this.emit(type, s, now, reason, actorId ?? null);
  }

  /** Caches a session read from the store at `readAt`, for as long as it can stay valid (at most `cacheTtl`). */
  private async fill(accessHash: string, session: CachedSession, nowMs: number, readAt: number): Promise<void> {
    const remainingMs = Math.min(
      session.accessExpiresAt,
      session.expiresAt,
      session.lastActivityAt + this.options.idleTtl * 1000,
    ) - nowMs;
    const ttl = Math.min(this.options.cacheTtl, Math.floor(remainingMs / 1000));
    if (ttl >= 1) await this.cache.set(accessHash, session, ttl, readAt);
  }

  private window(now: Date): LiveWindow {
    return liveWindow(now, this.options.idleTtl);
  }

  private nowDate(): Date {
    return new Date(this.clock.now());
  }

  private after(from: Date, seconds: number): Date {
    return new Date(from.getTime() + seconds * 1000);
  }
}

/** Role names a session carries: what the cache's format and the audit detail can hold. */
const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_ROLES = 32;

/** The change as the store gets it (roles deduplicated, copies), or InvalidSessionChangeError. */
function checkedChange(change: SessionChange): SessionChange {
  const checked: SessionChange = {};
  if (change.roles !== undefined) {
    if (!Array.isArray(change.roles) || change.roles.length > MAX_ROLES || !change.roles.every((r) => typeof r === 'string' && ROLE.test(r))) {
      throw new InvalidSessionChangeError(`roles must be at most ${MAX_ROLES} names of 1 to 64 letters, digits, _ . : or -`);
    }
    checked.roles = [...new Set(change.roles)];
  }
  if (change.data !== undefined) {
    if (change.data !== null && (typeof change.data !== 'object' || Array.isArray(change.data))) {
      throw new InvalidSessionChangeError('data must be a JSON object or null');
    }
    checked.data = change.data === null ? null : structuredClone(change.data);
  }
  return checked;
}

function toCached(s: SessionRecord): CachedSession {
  return {
    id: s.id,
    userId: s.userId,
    roles: s.roles,
    accessExpiresAt: s.accessExpiresAt.getTime(),
    expiresAt: s.expiresAt.getTime(),
    lastActivityAt: s.lastActivityAt.getTime(),
    authenticatedAt: s.authenticatedAt.getTime(),
    createdAt: s.createdAt.getTime(),
    version: s.version,
    uaFingerprint: userAgentFingerprint(s.userAgent),
    network: networkOf(s.ipAddress),
  };
}

function toAuthenticated(s: CachedSession, idleTtl: number): AuthenticatedSession {
  return {
    sessionId: s.id,
    userId: s.userId,
    roles: [...s.roles],
    createdAt: new Date(s.createdAt),
    authenticatedAt: new Date(s.authenticatedAt),
    lastActivityAt: new Date(s.lastActivityAt),
    accessExpiresAt: new Date(s.accessExpiresAt),
    expiresAt: new Date(Math.min(s.expiresAt, s.lastActivityAt + idleTtl * 1000)),
  };
}

/** A UUID (RFC 9562 version 8: custom) derived from `origin` under `key`: the same for the same origin. */
function derivedUuid(key: string, origin: string): string {
  const bytes = createHmac('sha256', key).update(`session-id|${origin}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

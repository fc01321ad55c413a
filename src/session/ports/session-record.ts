/** Why a session ended before its time. */
export type RevocationReason =
  | 'logout'
  | 'revoked'
  | 'revoked_by_admin'
  | 'revoked_all'
  | 'evicted'
  | 'reuse_detected'
  | 'hijack_suspected'
  | 'password_changed'
  /**
   * A new login of the same user replaced it: from the client that presented it, or on the same
   * device id (a user has at most one live session per device id).
   */
  | 'replaced'
  /** Issued before a moment an operator chose (`endIssuedBefore`), e.g. after a database restore. */
  | 'not_before';

/** What a new session carries besides its tokens: where and on what it was opened. */
export interface SessionMetadata {
  ipAddress?: string | null;
  userAgent?: string | null;
  deviceName?: string | null;
  deviceType?: string | null;
  deviceId?: string | null;
  /** Arbitrary JSON the app attaches to the session. */
  data?: Record<string, unknown> | null;
}

/** A session as the store keeps it. Token hashes only, never raw tokens. */
export interface SessionRecord extends Required<SessionMetadata> {
  id: string;
  userId: string;
  roles: string[];
  accessHash: string;
  refreshHash: string;
  previousRefreshHash: string | null;
  /**
   * The access hash the last rotation replaced: a call that ends the session marks it too, in
   * case the rotating call has not yet (it marks it after its commit).
   */
  previousAccessHash: string | null;
  rotatedAt: Date | null;
  /**
   * The random secret of the last rotation, which the current pair was derived with
   * (`deriveToken`): lets a retry of the token it rotated away get the same pair. Null before the
   * first rotation. A secret, like the hashes: never handed to the app.
   */
  rotationSecret: string | null;
  accessExpiresAt: Date;
  /** When the refresh token ends, never after `absoluteExpiresAt`. */
  expiresAt: Date;
  absoluteExpiresAt: Date;
  createdAt: Date;
  /** When the user last proved who they are (login); refresh does not move it. */
  authenticatedAt: Date;
  lastActivityAt: Date;
  revokedAt: Date | null;
  revokedReason: RevocationReason | null;
  /**
   * When the session ended, once that is recorded: at revocation, or by the expiry sweep
   * (`markExpired`) after its time ran out. A session with `endedAt` set is never live again.
   */
  endedAt: Date | null;
  /** Grows on every change that the cache must not undo. */
  version: number;
}

/** A session as `SessionService` hands it to the app: everything but its token hashes. */
export type SessionInfo = Omit<SessionRecord, 'accessHash' | 'refreshHash' | 'previousRefreshHash' | 'previousAccessHash' | 'rotationSecret'>;

/** The session without its secrets. */
export function toSessionInfo(record: SessionRecord): SessionInfo {
  const {
    accessHash: _access,
    refreshHash: _refresh,
    previousRefreshHash: _previous,
    previousAccessHash: _previousAccess,
    rotationSecret: _secret,
    ...info
  } = record;
  return info;
}

/** The fields a store needs to open a session. */
export type NewSessionRecord = Omit<
  SessionRecord,
  'previousRefreshHash' | 'previousAccessHash' | 'rotatedAt' | 'rotationSecret' | 'revokedAt' | 'revokedReason' | 'endedAt' | 'version'
>;

/** The moment a query runs at and the oldest activity a live session may have. */
export interface LiveWindow {
  now: Date;
  /** `now - idleTtl`: a session last active before this is over. */
  activeSince: Date;
}

/** The new tokens of a rotation. */
export interface RotationTarget {
  accessHash: string;
  refreshHash: string;
  accessExpiresAt: Date;
  /** Wanted end of the new refresh token; the store caps it at the absolute expiry. */
  expiresAt: Date;
  /** The secret the new pair was derived with (`mintRotationSecret`), kept as `rotationSecret`. */
  rotationSecret: string;
}

/** The outcome of an insert: the new session, and the sessions of its device id it ended. */
export interface Insertion {
  session: SessionRecord;
  /** The user's sessions on the same device id that had not ended, as they were ended (`replaced`). */
  replaced: SessionRecord[];
}

/** The outcome of a rotation: the session after it, and the access hash it replaced. */
export interface Rotation {
  session: SessionRecord;
  replacedAccessHash: string;
}

/**
 * An access hash to refuse from `at` on: a session's current one when the session ended, or the
 * one a rotation replaced.
 */
export interface RevokedAccess {
  userId: string;
  accessHash: string;
  at: Date;
}

/** A position in the sessions ordered by `(createdAt, id)`: where a paged pass goes on from. */
export interface IssuedCursor {
  createdAt: Date;
  id: string;
}

/** One batch of `SessionStore.endIssuedBefore`. */
export interface IssuedBeforeBatch {
  /** The sessions this batch ended, as they were ended. */
  ended: SessionRecord[];
  /** Where the next batch starts; null when no session issued before the moment is left to look at. */
  next: IssuedCursor | null;
}

/** Which ended sessions `SessionStore.endedSince` returns. */
export interface EndedFilter {
  userId?: string;
  /** Only sessions created before this moment. */
  createdBefore?: Date;
}

/** A position in the ended sessions ordered by `(endedAt, id)`: where `endedSince` goes on from. */
export interface EndedCursor {
  endedAt: Date;
  id: string;
}

/**
 * What `SessionStore.changeLive` writes to a user's live sessions: the fields given, as given
 * (`data: null` clears it); a field left out stays as it is.
 */
export interface SessionChange {
  roles?: string[];
  data?: Record<string, unknown> | null;
}

/** Which sessions a revocation ends. */
export interface RevocationFilter {
  id?: string;
  userId?: string;
  /** Keep this session alive (revoke every other). */
  exceptId?: string;
  /** Only the session whose current access token has this hash. */
  accessHash?: string;
  /** Only the session whose current refresh token has this hash. */
  refreshHash?: string;
}

export interface SessionPageQuery {
  userId?: string;
  offset: number;
  limit: number;
}

export interface SessionPage {
  items: SessionRecord[];
  total: number;
}

/** Which of a user's sessions `SessionStore.recentClients` looks at. */
export interface RecentClientsQuery {
  userId: string;
  /** Only sessions created at or after this moment. */
  since: Date;
  /** At most this many, the newest. */
  limit: number;
  /** Leave this session out (the one just opened). */
  exceptId?: string;
}

/** The client a session was opened from, as the new-device check compares it. */
export interface ClientSighting {
  createdAt: Date;
  ipAddress: string | null;
  userAgent: string | null;
  deviceId: string | null;
}

/** Counts over every session, for the operators' statistics. */
export interface SessionSummary {
  /** Live at `window.now`. */
  active: number;
  /** Opened since `since`. */
  createdSince: number;
  /** Revoked (for any reason) since `since`. */
  revokedSince: number;
  /** Recorded as ended by time (expired or idle) since `since`. */
  expiredSince: number;
  /** Sessions that ended since `since`, however they ended. */
  endedSince: number;
  /** Their lifetimes (end − creation) added up, in seconds. */
  endedLifetimeSeconds: number;
}

/** The live window at `now` for an idle lifetime of `idleTtlSeconds`. */
export function liveWindow(now: Date, idleTtlSeconds: number): LiveWindow {
  return { now, activeSince: new Date(now.getTime() - idleTtlSeconds * 1000) };
}

/** The access hashes of these sessions, by user: what a cache's revocation marks are keyed by. */
/**
 * The access hashes an end makes invalid, by user: each session's current one and, when its last
 * rotation was after `rotatedSince`, the one that rotation replaced (the rotating call may not
 * have marked it yet; before `rotatedSince` it has expired anyway).
 */
export function accessHashesByUser(
  sessions: Iterable<Pick<SessionRecord, 'userId' | 'accessHash'> & Partial<Pick<SessionRecord, 'previousAccessHash' | 'rotatedAt'>>>,
  rotatedSince?: Date,
): Map<string, string[]> {
  const byUser = new Map<string, string[]>();
  const add = (userId: string, hash: string) => {
    const hashes = byUser.get(userId);
    if (hashes) hashes.push(hash);
    else byUser.set(userId, [hash]);
  };
  for (const s of sessions) {
    add(s.userId, s.accessHash);
    if (rotatedSince && s.previousAccessHash && s.rotatedAt && s.rotatedAt > rotatedSince) add(s.userId, s.previousAccessHash);
  }
  return byUser;
}

/** True when the session has not ended at `window.now`. */
export function isLive(session: SessionRecord, window: LiveWindow): boolean {
  return (
    session.revokedAt === null &&
    session.endedAt === null &&
    session.expiresAt > window.now &&
    session.lastActivityAt > window.activeSince
  );
}

import type { SessionEvent } from '../session.events.js';
import type { SessionInfo } from '../ports/session-record.js';
import type { IssuedSession } from '../session.types.js';
import type { SessionUser } from '../ports/credentials-verifier.js';

/**
 * A session as the API shows it: never a token or a token hash.
 * @param online whether a socket of the session is connected (on any instance)
 */
export function presentSession(s: SessionInfo, currentSessionId?: string, idleTtl?: number, online = false) {
  const idleEnd = idleTtl === undefined ? Infinity : s.lastActivityAt.getTime() + idleTtl * 1000;
  return {
    id: s.id,
    current: s.id === currentSessionId,
    online,
    createdAt: s.createdAt.toISOString(),
    lastActivityAt: s.lastActivityAt.toISOString(),
    expiresAt: new Date(Math.min(s.expiresAt.getTime(), idleEnd)).toISOString(),
    ipAddress: s.ipAddress,
    userAgent: s.userAgent,
    deviceName: s.deviceName,
    deviceType: s.deviceType,
  };
}

export function presentAdminSession(s: SessionInfo, idleTtl: number, online = false) {
  const { current: _current, ...fields } = presentSession(s, undefined, idleTtl, online);
  return { ...fields, userId: s.userId };
}

/**
 * The body of a login or refresh answer (and of `SessionIssuer.issue`). With `cookies: 'only'` it
 * has no `accessToken`, `refreshToken` or `tokenType`: the tokens are in the HttpOnly cookies alone.
 */
export interface IssuedSessionBody {
  /** Absent with `cookies: 'only'`. */
  accessToken?: string;
  /** Absent with `cookies: 'only'`. */
  refreshToken?: string;
  /** Absent with `cookies: 'only'`. */
  tokenType?: 'Bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
  /** Seconds until the refresh token expires. */
  refreshExpiresIn: number;
  sessionId: string;
  user: SessionUser;
}

/**
 * The login / refresh answer.
 * @param withTokens whether the body carries the tokens (not with `cookies: 'only'`)
 */
export function presentIssued(issued: IssuedSession, user: SessionUser, withTokens = true): IssuedSessionBody {
  const session = {
    expiresIn: issued.tokens.expiresIn,
    refreshExpiresIn: issued.tokens.refreshExpiresIn,
    sessionId: issued.session.id,
    user: { id: user.id, email: user.email, roles: user.roles },
  };
  if (!withTokens) return session;
  return { accessToken: issued.tokens.accessToken, refreshToken: issued.tokens.refreshToken, tokenType: 'Bearer', ...session };
}

/** An audit entry as `GET /admin/audit` lists it. */
export function presentAuditEntry(e: SessionEvent) {
  return {
    type: e.type,
    userId: e.userId,
    sessionId: e.sessionId,
    actorId: e.actorId,
    ipAddress: e.ipAddress,
    userAgent: e.userAgent,
    at: e.at.toISOString(),
    detail: e.detail,
  };
}

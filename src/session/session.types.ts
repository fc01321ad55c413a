import type { SessionInfo, SessionMetadata } from './ports/session-record.js';

/** The tokens handed to a client at login or refresh. Shown once, never stored raw. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  /** Seconds until the refresh token expires. */
  refreshExpiresIn: number;
}

/** A new or refreshed session with its tokens. */
export interface IssuedSession {
  tokens: IssuedTokens;
  /** The session, without its token hashes. */
  session: SessionInfo;
}

/** What a validated access token proves: who, through which session, since when. */
export interface AuthenticatedSession {
  sessionId: string;
  userId: string;
  roles: string[];
  createdAt: Date;
  authenticatedAt: Date;
  lastActivityAt: Date;
  accessExpiresAt: Date;
  /** When the session ends if nothing else happens (refresh end, absolute end or idle end). */
  expiresAt: Date;
}

export interface CreateSessionInput extends SessionMetadata {
  userId: string;
  roles: string[];
}

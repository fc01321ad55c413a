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

/** Tokens a client sent with its login (bearer header or cookies): what it was signed in with. */
export interface PresentedTokens {
  accessToken?: string;
  refreshToken?: string;
}

export interface CreateSessionInput extends SessionMetadata {
  userId: string;
  roles: string[];
  /**
   * The tokens the client presented with this login: the live session of the same user they
   * belong to ends (`replaced`), so a browser that logs in again keeps one session, not two.
   * Tokens of another user, forged or unknown ones change nothing.
   */
  presented?: PresentedTokens;
}

import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import { CsrfTokenError, InvalidTokenError, SessionError } from '../../errors/session.errors.js';
import { mapSessionError } from '../session-exception.filter.js';
import { RESOLVED_SESSION_OPTIONS } from '../../session.constants.js';
import { attachRequestSession } from '../request-session.js';
import type { ResolvedSessionOptions } from '../../session.options.js';
import { SessionService } from '../../session.service.js';
import type { AuthenticatedSession } from '../../session.types.js';
import { ACCESS_COOKIE } from '../session-cookies.js';
import { csrfTokenOfSession } from '../csrf-token.js';
import { extractAccessToken, TokenRequest } from '../session-token.extractor.js';

/**
 * Name of the passport strategy, for `AuthGuard(SESSION_STRATEGY)`. Not `session`: that is
 * passport's own strategy behind `passport.session()`, which an app may still use.
 */
export const SESSION_STRATEGY = 'session-token';

/**
 * The passport integration point: a `passport-custom` strategy that validates the request's
 * access token through `SessionService`. `req.user` becomes `{ id, roles }`; the full
 * `AuthenticatedSession` is what `requestSession(req)` reads.
 */
@Injectable()
export class SessionStrategy extends PassportStrategy(Strategy, SESSION_STRATEGY) {
  constructor(
    private readonly sessions: SessionService,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {
    super();
  }

  /**
   * Through `passport.authenticate` (`AuthGuard(SESSION_STRATEGY)`): a refused token fails the
   * authentication (401 from `AuthGuard`), any other refusal (a CSRF failure: 403) is its HTTP
   * exception.
   */
  async validate(req: TokenRequest & Record<string, unknown>): Promise<SessionUserRef | false> {
    try {
      return await this.authenticateRequest(req);
    } catch (error) {
      if (error instanceof InvalidTokenError) return false;
      throw error instanceof SessionError ? mapSessionError(error).exception : error;
    }
  }

  /** Whether the request carries an access token at all (a cheap look, nothing validated). */
  presentsToken(req: TokenRequest): boolean {
    if (typeof req.headers.authorization === 'string') return true;
    const cookie = req.headers.cookie;
    return this.options.cookies !== false && typeof cookie === 'string' && cookie.includes(ACCESS_COOKIE);
  }

  /**
   * `validate`, answered at once (no promise) when the session is in this process's cache:
   * what `SessionAuthGuard` calls on every request. The access cookie on an unsafe method needs
   * the double-submitted CSRF value, signed for the session that cookie authenticates.
   */
  authenticateRequest(req: TokenRequest & Record<string, unknown>): SessionUserRef | Promise<SessionUserRef> {
    const presented = extractAccessToken(req, this.options.cookies !== false);
    if (!presented) throw new InvalidTokenError('missing');
    const userAgent = req.headers['user-agent'];
    const client = {
      // Reading req.ip is not free on Express: only `ip` binding needs it.
      ipAddress: this.options.binding === 'ip' ? (req as { ip?: string }).ip : undefined,
      userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    };
    const accept = (session: AuthenticatedSession): SessionUserRef => {
      if (presented.csrf !== undefined && !csrfTokenOfSession(presented.csrf, session.sessionId, this.options.secrets)) {
        throw new CsrfTokenError();
      }
      return attachSessionUser(req, session);
    };
    const session = this.sessions.validateNow(presented.token, client);
    return session instanceof Promise ? session.then(accept) : accept(session);
  }
}

/** What `req.user` becomes. */
export interface SessionUserRef {
  id: string;
  roles: string[];
}

/** Makes `session` the request's: what `requestSession(req)` reads, and `req.user`'s value. */
export function attachSessionUser(req: Record<string, unknown>, session: AuthenticatedSession): SessionUserRef {
  attachRequestSession(req, session);
  return { id: session.userId, roles: session.roles };
}

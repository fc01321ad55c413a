import { Inject, Injectable } from '@nestjs/common';
import { CsrfTokenError, InvalidTokenError } from '../errors/session.errors.js';
import { LoginService } from '../login.service.js';
import type { SessionUser } from '../ports/credentials-verifier.js';
import type { SessionMetadata } from '../ports/session-record.js';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session.options.js';
import { SessionService } from '../session.service.js';
import type { AuthenticatedSession, IssuedSession } from '../session.types.js';
import { requestClient, requestMetadata, type MetadataRequest } from './request-metadata.js';
import {
  clearedSessionCookies,
  CSRF_COOKIE,
  REFRESH_COOKIE,
  requestCookies,
  sessionCookies,
  writeCookies,
  type CookieResponse,
} from './session-cookies.js';
import { csrfTokenFor, csrfTokenOfRefreshToken } from './csrf-token.js';
import { SessionPaths } from './session-paths.js';
import { doubleSubmittedCsrf, presentedTokens, type TokenRequest } from './session-token.extractor.js';
import { presentIssued, type IssuedSessionBody } from './session.presenter.js';

/** A request as the issuer reads it: headers, client IP, method, cookies (Express or Fastify). */
export type IssuerRequest = MetadataRequest & TokenRequest;

/** What a session opened by the app's own flow carries besides what the request tells. */
export interface IssueOptions {
  /** Label of the session in the user's list (else `X-Device-Name` or the parsed User-Agent). */
  deviceName?: string;
  /** Stable id of the device (else `X-Device-Id`): the user's earlier session on it ends. */
  deviceId?: string;
  /** Arbitrary JSON kept with the session (e.g. the identity provider that vouched for the user). */
  data?: Record<string, unknown>;
}

/**
 * Opens, rotates and ends sessions over HTTP, answering exactly as the module's routes do: the
 * session cookies (with cookies on) and the login body `{accessToken, refreshToken, tokenType,
 * expiresIn, refreshExpiresIn, sessionId, user}` (without the tokens with `cookies: 'only'`). The `/auth` routes are written with it; an app's
 * own login flow without a password (OAuth, SSO, a magic link) calls `issue` once it knows the user:
 *
 * ```ts
 * @Post('magic-link/callback') @Public()
 * async callback(@Body() body: MagicLinkDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
 *   const user = await this.magicLinks.redeem(body.token); // your check; null when invalid
 *   if (!user) throw new UnauthorizedException();
 *   return this.issuer.issue(req, res, user);
 * }
 * ```
 */
@Injectable()
export class SessionIssuer {
  constructor(
    private readonly sessions: SessionService,
    private readonly logins: LoginService,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly paths: SessionPaths,
  ) {}

  /**
   * Opens a session for a user the app has authenticated its own way, evicting the least
   * recently used one beyond the limit, and answers as `POST /auth/login` does — also in ending
   * the user's session the request presented and the one on the same device id (`replaced`), and
   * telling a new device or network (`new_device`).
   */
  async issue(req: IssuerRequest, res: CookieResponse, user: SessionUser, options: IssueOptions = {}): Promise<IssuedSessionBody> {
    const metadata: SessionMetadata = { ...requestMetadata(req, options.deviceName, options.deviceId), data: options.data ?? null };
    const presented = presentedTokens(req, this.options.cookies !== false);
    return this.answer(await this.logins.open(user, metadata, presented), user, res);
  }

  /**
   * `POST /auth/login`: checks the password through the app's `CredentialsVerifier`, with the
   * per-account failure backoff.
   * @throws InvalidCredentialsError, LoginThrottledError
   */
  async login(
    req: IssuerRequest,
    res: CookieResponse,
    email: string,
    password: string,
    deviceName?: string,
    deviceId?: string,
  ): Promise<IssuedSessionBody> {
    const { issued, user } = await this.logins.login(
      email,
      password,
      requestMetadata(req, deviceName, deviceId),
      presentedTokens(req, this.options.cookies !== false),
    );
    return this.answer(issued, user, res);
  }

  /**
   * `POST /auth/refresh`: rotates the session of `refreshToken`, or of the refresh cookie when none
   * is given, which needs the CSRF header: equal to the CSRF cookie and issued with that refresh
   * token, checked before anything rotates. The user must still exist.
   * @throws InvalidTokenError (also on reuse, which revokes the session), CsrfTokenError
   */
  async refresh(req: IssuerRequest, res: CookieResponse, refreshToken?: string): Promise<IssuedSessionBody> {
    const token = refreshToken ?? this.refreshCookieOf(req);
    if (token === undefined) throw new InvalidTokenError('missing');
    const issued = await this.sessions.refresh(token, requestClient(req));
    const user = await this.options.credentials.findById(issued.session.userId);
    if (!user) {
      await this.sessions.revoke(issued.session.id, 'revoked');
      throw new InvalidTokenError('user_gone');
    }
    return this.answer(issued, user, res);
  }

  /** `POST /auth/logout`: ends the session and clears the cookies. */
  async logout(res: CookieResponse, session: AuthenticatedSession): Promise<void> {
    await this.sessions.revoke(session.sessionId, 'logout', session.userId);
    if (this.options.cookies !== false) writeCookies(res, clearedSessionCookies(this.paths.auth));
  }

  /**
   * The refresh cookie's token, once the request proved it may use it (cookies on); undefined
   * when there is none.
   * @throws CsrfTokenError
   */
  private refreshCookieOf(req: IssuerRequest): string | undefined {
    if (this.options.cookies === false) return undefined;
    const cookies = requestCookies(req);
    const cookie: unknown = cookies[REFRESH_COOKIE];
    if (typeof cookie !== 'string' || !cookie) return undefined;
    const csrf = doubleSubmittedCsrf(req, cookies[CSRF_COOKIE]);
    if (!csrfTokenOfRefreshToken(csrf, cookie, this.options.secrets)) throw new CsrfTokenError();
    return cookie;
  }

  private answer(issued: IssuedSession, user: SessionUser, res: CookieResponse): IssuedSessionBody {
    if (this.options.cookies !== false) {
      const { accessToken, refreshToken, expiresIn, refreshExpiresIn } = issued.tokens;
      const csrfToken = csrfTokenFor(this.options.secrets, issued.session.id, refreshToken);
      writeCookies(res, sessionCookies({ accessToken, refreshToken, csrfToken, accessMaxAge: expiresIn, refreshMaxAge: refreshExpiresIn }, this.paths.auth));
    }
    return presentIssued(issued, user, this.options.cookies !== 'only');
  }
}

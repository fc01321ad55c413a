import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { requestMetadata, type MetadataRequest } from '../http/request-metadata.js';
import { csrfTokenFor } from '../http/csrf-token.js';
import { sessionCookies, writeCookies, type CookieResponse } from '../http/session-cookies.js';
import { SessionPaths } from '../http/session-paths.js';
import { SessionMetrics } from '../metrics/session-metrics.js';
import type { LegacyRequest, LegacySessionSource } from '../ports/legacy-session-source.js';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session.options.js';
import { SessionService } from '../session.service.js';
import type { AuthenticatedSession } from '../session.types.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Response headers that carry the new tokens to a bearer client (whose legacy token was a header too). */
export const UPGRADE_HEADERS = {
  accessToken: 'x-session-access-token',
  refreshToken: 'x-session-refresh-token',
  expiresIn: 'x-session-expires-in',
} as const;

/** A response the upgrader can set cookies or headers on (Express or Fastify). */
export type UpgradeResponse = CookieResponse & { setHeader?(name: string, value: string): unknown; header?(name: string, value: string): unknown };

/**
 * Turns a live session of the system an app moves away from (`legacySessions`) into a session of
 * this module on its first use, so nobody is logged out by the switch. Asked by the guard only
 * when a request carries no token of this module: requests that do never pay for it.
 *
 * The user must still exist (`credentials.findById`). The new session is opened with
 * `SessionService.createOnce`, so parallel first requests with one legacy credential (on any
 * instance) end with one session and all answer its tokens: in cookies for a cookie source (with
 * cookies on), else in the `X-Session-*` response headers. The legacy credential then stops
 * working after `legacySessionGrace` seconds.
 */
@Injectable()
export class LegacySessionUpgrader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LegacySessions');
  private readonly source: LegacySessionSource | null;

  constructor(
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly sessions: SessionService,
    private readonly metrics: SessionMetrics,
    private readonly paths: SessionPaths,
  ) {
    this.source = options.legacySessions;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.source) return;
    await this.source.start?.();
    this.logger.log(`Legacy sessions (${this.source.name}) are upgraded on first use; grace ${this.options.legacySessionGrace} s`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.source?.close?.();
  }

  /**
   * Whether the request may be upgraded: it carries the source's credential and, for a cookie
   * source, uses a safe method (a cookie is sent cross-site too: a forged POST must not log in).
   * No I/O.
   */
  applies(req: LegacyRequest): boolean {
    const source = this.source;
    if (!source || !source.presents(req)) return false;
    return source.presentedAs === 'bearer' || SAFE_METHODS.has(req.method.toUpperCase());
  }

  /**
   * Whether the source's credential is an `Authorization: Bearer` header, where a token of this
   * module would be too: such a source tells the two apart itself (`presents`), so the guard asks
   * it even though the request carries an `Authorization` header.
   */
  get readsAuthorization(): boolean {
    return this.source?.presentedAs === 'bearer';
  }

  /**
   * Upgrades the request's legacy session: opens (or finds, for a parallel request) its session
   * here, answers its tokens on `res`, retires the legacy one after the grace.
   * @returns the session the request is now authenticated as, or null when there is nothing to
   *   upgrade (no live legacy session, its user gone, or its session here ended already)
   */
  async upgrade(req: LegacyRequest & MetadataRequest, res: UpgradeResponse): Promise<AuthenticatedSession | null> {
    const source = this.source;
    if (!source || !this.applies(req)) return null;
    const credential = await source.find(req);
    if (!credential) return null;
    const user = await this.options.credentials.findById(credential.userId);
    if (!user) return null;
    const issued = await this.sessions.createOnce(
      { userId: user.id, roles: user.roles, ...requestMetadata(req) },
      `${source.name}|${credential.key}`,
      `migrated from ${source.name}`,
    );
    if (!issued) return null;
    await source.retire(credential, this.options.legacySessionGrace).catch((error: Error) => {
      this.logger.warn(`Could not retire an upgraded ${source.name} session (${error.message}); it ends on its own expiry`);
    });
    this.metrics.legacyUpgrade(source.name);
    const { accessToken, refreshToken, expiresIn, refreshExpiresIn } = issued.tokens;
    if (source.presentedAs === 'cookie' && this.options.cookies !== false) {
      const csrfToken = csrfTokenFor(this.options.secrets, issued.session.id, refreshToken);
      writeCookies(res, sessionCookies({ accessToken, refreshToken, csrfToken, accessMaxAge: expiresIn, refreshMaxAge: refreshExpiresIn }, this.paths.auth));
    } else {
      setHeader(res, UPGRADE_HEADERS.accessToken, accessToken);
      setHeader(res, UPGRADE_HEADERS.refreshToken, refreshToken);
      setHeader(res, UPGRADE_HEADERS.expiresIn, String(expiresIn));
    }
    return this.sessions.validate(accessToken);
  }
}

function setHeader(res: UpgradeResponse, name: string, value: string): void {
  if (typeof res.setHeader === 'function') res.setHeader(name, value);
  else res.header?.(name, value);
}

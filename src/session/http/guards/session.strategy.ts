import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import { InvalidTokenError } from '../../errors/session.errors';
import { REQUEST_SESSION_KEY, RESOLVED_SESSION_OPTIONS } from '../../session.constants';
import type { ResolvedSessionOptions } from '../../session.options';
import { SessionService } from '../../session.service';
import type { AuthenticatedSession } from '../../session.types';
import { extractAccessToken, TokenRequest } from '../session-token.extractor';

/** Name of the passport strategy, for `AuthGuard(SESSION_STRATEGY)`. */
export const SESSION_STRATEGY = 'session';

/**
 * The passport integration point: a `passport-custom` strategy that validates the request's
 * access token through `SessionService`. `req.user` becomes `{ id, roles }`; the full
 * `AuthenticatedSession` is on `req.authSession`.
 */
@Injectable()
export class SessionStrategy extends PassportStrategy(Strategy, SESSION_STRATEGY) {
  constructor(
    private readonly sessions: SessionService,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {
    super();
  }

  async validate(req: TokenRequest & Record<string, unknown>): Promise<{ id: string; roles: string[] }> {
    const token = extractAccessToken(req, this.options.cookies);
    if (!token) throw new InvalidTokenError('missing');
    const userAgent = req.headers['user-agent'];
    const session: AuthenticatedSession = await this.sessions.validate(token, {
      // Reading req.ip is not free on Express: only `ip` binding needs it.
      ipAddress: this.options.binding === 'ip' ? (req as { ip?: string }).ip : undefined,
      userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    });
    req[REQUEST_SESSION_KEY] = session;
    return { id: session.userId, roles: session.roles };
  }
}

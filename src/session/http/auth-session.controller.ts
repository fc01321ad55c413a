import {
  Body,
  Delete,
  Get,
  Header,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { InvalidTokenError } from '../errors/session.errors.js';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import type { ResolvedSessionOptions } from '../session.options.js';
import { SessionService } from '../session.service.js';
import type { AuthenticatedSession } from '../session.types.js';
import { ChecksPassword } from './decorators/checks-password.decorator.js';
import { CurrentSession } from './decorators/current-session.decorator.js';
import { LoginThrottle } from './decorators/login-throttle.decorator.js';
import { Public } from './decorators/public.decorator.js';
import { LoginDto } from './dto/login.dto.js';
import { RefreshDto } from './dto/refresh.dto.js';
import { SessionAuthGuard } from './guards/session-auth.guard.js';
import { JsonBodyGuard } from './guards/json-body.guard.js';
import { SessionThrottlerGuard } from './guards/session-throttler.guard.js';
import {
  ApiBody,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from './openapi/swagger.js';
import { ApiError, ApiValidationError } from './openapi/api-error.decorator.js';
import { ApiPasswordCheckLimits, ApiRateLimited } from './openapi/api-rate-limits.decorator.js';
import { ApiSessionAuth } from './openapi/session-security.js';
import { IssuedSessionResponse } from './responses/issued-session.response.js';
import { MeResponse } from './responses/me.response.js';
import { RevokedCountResponse } from './responses/revoked-count.response.js';
import { SessionResponse } from './responses/session.response.js';
import type { CookieResponse } from './session-cookies.js';
import { SessionExceptionFilter } from './session-exception.filter.js';
import { type IssuerRequest, SessionIssuer } from './session-issuer.js';
import { presentSession } from './session.presenter.js';
import { SessionSockets } from '../realtime/session-sockets.service.js';
import { sessionValidationPipe } from './validation.pipe.js';

/**
 * Login, refresh, logout and a user's own sessions, mounted at the path of the `routes` extra
 * (`/auth`) with `mountController`. Rate limited (login and refresh by `loginRateLimit`) and
 * guarded here, whatever the app registers globally.
 */
@UseGuards(SessionThrottlerGuard, JsonBodyGuard, SessionAuthGuard)
@UseFilters(SessionExceptionFilter)
@UsePipes(sessionValidationPipe())
export class AuthSessionController {
  constructor(
    private readonly sessions: SessionService,
    private readonly issuer: SessionIssuer,
    private readonly sockets: SessionSockets,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  @Post('login')
  @ApiTags('auth')
  @ApiOperation({
    summary: 'Log in: opens a session and returns its tokens (and sets the session cookies)',
    description:
      'The session the request presents (bearer header, access or refresh cookie), when it is a live one of the same ' +
      'user, ends (`replaced`), and so does the user\'s session on the same device id: one browser, one session.',
  })
  @ApiHeader({ name: 'X-Device-Name', required: false, description: 'Label of the session when the body has no `deviceName`.' })
  @ApiHeader({ name: 'X-Device-Type', required: false, description: 'Device type of the session (e.g. `mobile`); else from the User-Agent.' })
  @ApiHeader({
    name: 'X-Device-Id',
    required: false,
    description: 'Stable id of the device when the body has no `deviceId`: the user\'s earlier session on it ends (`replaced`).',
  })
  @ApiOkResponse({ type: IssuedSessionResponse, description: 'Logged in. `Cache-Control: no-store`.' })
  @ApiValidationError(['email must be an email address'])
  @ApiError(401, 'Invalid credentials', { description: 'Unknown email or wrong password (the same answer for both).' })
  @ApiPasswordCheckLimits()
  @Public()
  @ChecksPassword()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  login(@Body() body: LoginDto, @Req() req: IssuerRequest, @Res({ passthrough: true }) res: CookieResponse) {
    return this.issuer.login(req, res, body.email, body.password, body.deviceName, body.deviceId);
  }

  @Post('refresh')
  @ApiTags('auth')
  @ApiOperation({
    summary: 'Rotate the tokens of a session',
    description:
      'Returns a new access and refresh token for the same `sessionId`. Presenting a refresh token that was ' +
      'already rotated away (reuse) answers 401 and revokes the whole session.',
  })
  @ApiBody({ type: RefreshDto, required: false })
  @ApiOkResponse({ type: IssuedSessionResponse, description: 'Rotated. `Cache-Control: no-store`.' })
  @ApiValidationError(['refreshToken must be a string'])
  @ApiError(401, 'Invalid or expired token', {
    description: 'Unknown, expired or revoked refresh token, or one already rotated away (the session is then revoked).',
    headers: { 'WWW-Authenticate': { schema: { type: 'string', example: 'Bearer' } } },
  })
  @ApiError(403, 'Missing or invalid CSRF token', {
    description: 'The refresh cookie was used without a matching `X-CSRF-Token` header.',
  })
  @ApiRateLimited('Too many refresh attempts from this client IP (the login limit).')
  @Public()
  @LoginThrottle()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  refresh(@Body() body: RefreshDto, @Req() req: IssuerRequest, @Res({ passthrough: true }) res: CookieResponse) {
    return this.issuer.refresh(req, res, body.refreshToken);
  }

  @Post('logout')
  @ApiTags('auth')
  @ApiOperation({ summary: 'End the current session', description: 'Its tokens are rejected from then on; the session cookies are cleared.' })
  @ApiSessionAuth({ csrf: true })
  @ApiNoContentResponse({ description: 'Logged out.' })
  @HttpCode(204)
  logout(@CurrentSession() session: AuthenticatedSession, @Res({ passthrough: true }) res: CookieResponse) {
    return this.issuer.logout(res, session);
  }

  @Get('me')
  @ApiTags('auth')
  @ApiOperation({ summary: 'The caller and their current session' })
  @ApiSessionAuth()
  @ApiOkResponse({ type: MeResponse })
  async me(@CurrentSession() session: AuthenticatedSession) {
    const user = await this.options.credentials.findById(session.userId);
    if (!user) throw new InvalidTokenError('user_gone');
    return {
      user: { id: user.id, email: user.email, roles: user.roles },
      session: {
        id: session.sessionId,
        createdAt: session.createdAt.toISOString(),
        lastActivityAt: session.lastActivityAt.toISOString(),
        expiresAt: session.expiresAt.toISOString(),
      },
    };
  }

  @Get('sessions')
  @ApiTags('sessions')
  @ApiOperation({ summary: "The caller's live sessions, most recently active first" })
  @ApiSessionAuth()
  @ApiOkResponse({ type: [SessionResponse] })
  async list(@CurrentSession() session: AuthenticatedSession) {
    const live = await this.sessions.list(session.userId);
    const online = await this.sockets.onlineAmong(live.map((s) => s.id));
    return live.map((s) => presentSession(s, session.sessionId, this.options.idleTtl, online.has(s.id)));
  }

  @Delete('sessions/:id')
  @ApiTags('sessions')
  @ApiOperation({ summary: 'End one of the caller\'s sessions' })
  @ApiParam({ name: 'id', format: 'uuid', description: 'A session id from `GET /auth/sessions`.' })
  @ApiSessionAuth({ csrf: true })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiError(400, 'Validation failed (uuid is expected)', { description: 'The id is not a UUID.' })
  @ApiError(404, 'Session not found', { description: 'Not a live session of the caller (another user\'s included).' })
  @HttpCode(204)
  async revokeOne(
    @CurrentSession() session: AuthenticatedSession,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<void> {
    await this.sessions.revokeOwn(session.userId, id);
  }

  @Delete('sessions')
  @ApiTags('sessions')
  @ApiOperation({ summary: 'End every other session of the caller; the current one stays' })
  @ApiSessionAuth({ csrf: true })
  @ApiOkResponse({ type: RevokedCountResponse })
  async revokeOthers(@CurrentSession() session: AuthenticatedSession) {
    const revoked = await this.sessions.revokeAll(session.userId, {
      exceptSessionId: session.sessionId,
      actorId: session.userId,
    });
    return { revoked };
  }
}


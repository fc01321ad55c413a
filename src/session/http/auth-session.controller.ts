import {
  Body,
  Controller,
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
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { InvalidTokenError } from '../errors/session.errors';
import { LoginService } from '../login.service';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants';
import type { ResolvedSessionOptions } from '../session.options';
import { SessionService } from '../session.service';
import type { AuthenticatedSession } from '../session.types';
import { CurrentSession } from './decorators/current-session.decorator';
import { LoginThrottle } from './decorators/login-throttle.decorator';
import { Public } from './decorators/public.decorator';
import { LoginDto } from './dto/login.dto';
import { RefreshDto } from './dto/refresh.dto';
import { SessionAuthGuard } from './guards/session-auth.guard';
import { requestMetadata } from './request-metadata';
import { sessionValidationPipe } from './validation.pipe';
import { assertCsrf } from './session-token.extractor';
import {
  clearedSessionCookies,
  CSRF_COOKIE,
  REFRESH_COOKIE,
  requestCookies,
  sessionCookies,
  writeCookies,
} from './session-cookies';
import { presentIssued, presentSession } from './session.presenter';
import type { IssuedSession } from '../session.types';
import type { SessionUser } from '../ports/credentials-verifier';

type Req = Parameters<typeof requestMetadata>[0] & {
  method: string;
  cookies?: Record<string, string>;
};
type Res = Parameters<typeof writeCookies>[0];

/** Login, refresh, logout and a user's own sessions. */
@Controller('auth')
@UseGuards(SessionAuthGuard)
@UsePipes(sessionValidationPipe())
export class AuthSessionController {
  constructor(
    private readonly sessions: SessionService,
    private readonly logins: LoginService,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  @Post('login')
  @Public()
  @LoginThrottle()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async login(@Body() body: LoginDto, @Req() req: Req, @Res({ passthrough: true }) res: Res) {
    const { issued, user } = await this.logins.login(body.email, body.password, requestMetadata(req, body.deviceName));
    return this.answer(issued, user, res);
  }

  @Post('refresh')
  @Public()
  @LoginThrottle()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async refresh(@Body() body: RefreshDto, @Req() req: Req, @Res({ passthrough: true }) res: Res) {
    let token = body.refreshToken;
    if (token === undefined && this.options.cookies) {
      const cookies = requestCookies(req as never);
      const cookie: unknown = cookies[REFRESH_COOKIE];
      token = typeof cookie === 'string' && cookie ? cookie : undefined;
      if (token !== undefined) assertCsrf(req, cookies[CSRF_COOKIE]);
    }
    if (token === undefined) throw new InvalidTokenError('missing');
    const issued = await this.sessions.refresh(token, requestMetadata(req));
    const user = await this.options.credentials.findById(issued.session.userId);
    if (!user) {
      await this.sessions.revoke(issued.session.id, 'revoked');
      throw new InvalidTokenError('user gone');
    }
    return this.answer(issued, user, res);
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@CurrentSession() session: AuthenticatedSession, @Res({ passthrough: true }) res: Res) {
    await this.sessions.revoke(session.sessionId, 'logout');
    if (this.options.cookies) writeCookies(res, clearedSessionCookies());
  }

  @Get('me')
  async me(@CurrentSession() session: AuthenticatedSession) {
    const user = await this.options.credentials.findById(session.userId);
    if (!user) throw new InvalidTokenError('user gone');
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
  async list(@CurrentSession() session: AuthenticatedSession) {
    const live = await this.sessions.list(session.userId);
    return live.map((s) => presentSession(s, session.sessionId, this.options.idleTtl));
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  async revokeOne(
    @CurrentSession() session: AuthenticatedSession,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<void> {
    await this.sessions.revokeOwn(session.userId, id);
  }

  @Delete('sessions')
  async revokeOthers(@CurrentSession() session: AuthenticatedSession) {
    const revoked = await this.sessions.revokeAll(session.userId, {
      exceptSessionId: session.sessionId,
    });
    return { revoked };
  }

  private answer(issued: IssuedSession, user: SessionUser, res: Res) {
    if (this.options.cookies) {
      writeCookies(
        res,
        sessionCookies(
          issued.tokens.accessToken,
          issued.tokens.refreshToken,
          issued.tokens.expiresIn,
          issued.tokens.refreshExpiresIn,
        ),
      );
    }
    return presentIssued(issued, user);
  }
}

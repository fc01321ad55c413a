import { Body, Controller, HttpCode, Post, Req, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiError,
  ApiPasswordCheckLimits,
  ApiSessionAuth,
  ApiValidationError,
  ChecksPassword,
  CurrentSession,
  FreshSession,
  PasswordAttempts,
  SessionService,
} from '../session';
import type { AuthenticatedSession, MetadataRequest } from '../session';
import { UsersService } from '../users/users.service';
import { ChangePasswordDto } from './dto/change-password.dto';

/** Seconds since the last login within which a password may be changed. */
const PASSWORD_CHANGE_FRESHNESS = 600;

@ApiTags('auth')
@Controller('auth')
export class PasswordController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionService,
    private readonly passwords: PasswordAttempts,
  ) {}

  /**
   * Needs a login within the last 10 minutes and the current password; every other session of
   * the user ends, so a thief holding one is logged out. The current password is checked as a
   * login's is: the login rate limit per client address, shared with login, and the per-account
   * backoff, with a `login_failed` audit entry for a wrong one.
   */
  @Post('password')
  @ApiOperation({ summary: 'Change the password; every other session of the user ends' })
  @ApiSessionAuth({ csrf: true, freshWithin: PASSWORD_CHANGE_FRESHNESS })
  @ApiNoContentResponse({ description: 'Changed; the current session stays.' })
  @ApiValidationError(['newPassword must be at least 8 characters'])
  @ApiError(401, 'Invalid credentials', { description: 'The current password is wrong.' })
  @ApiPasswordCheckLimits()
  @HttpCode(204)
  @FreshSession(PASSWORD_CHANGE_FRESHNESS)
  @ChecksPassword()
  @UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
  async change(
    @CurrentSession() session: AuthenticatedSession,
    @Body() body: ChangePasswordDto,
    @Req() req: MetadataRequest,
  ): Promise<void> {
    await this.passwords.confirm(req, session.userId, body.currentPassword, 'password change');
    await this.users.setPassword(session.userId, body.newPassword);
    await this.sessions.revokeAll(session.userId, {
      exceptSessionId: session.sessionId,
      reason: 'password_changed',
      actorId: session.userId,
    });
  }
}

import { Body, Controller, HttpCode, Post, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiError,
  ApiSessionAuth,
  ApiValidationError,
  CurrentSession,
  FreshSession,
  InvalidCredentialsError,
  SessionService,
} from '../session';
import type { AuthenticatedSession } from '../session';
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
  ) {}

  /**
   * Needs a login within the last 10 minutes and the current password; every other session of
   * the user ends, so a thief holding one is logged out.
   */
  @Post('password')
  @ApiOperation({ summary: 'Change the password; every other session of the user ends' })
  @ApiSessionAuth({ csrf: true, freshWithin: PASSWORD_CHANGE_FRESHNESS })
  @ApiNoContentResponse({ description: 'Changed; the current session stays.' })
  @ApiValidationError(['newPassword must be at least 8 characters'])
  @ApiError(401, 'Invalid credentials', { description: 'The current password is wrong.' })
  @HttpCode(204)
  @FreshSession(PASSWORD_CHANGE_FRESHNESS)
  @UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
  async change(@CurrentSession() session: AuthenticatedSession, @Body() body: ChangePasswordDto): Promise<void> {
    const changed = await this.users.changePassword(session.userId, body.currentPassword, body.newPassword);
    if (!changed) throw new InvalidCredentialsError();
    await this.sessions.revokeAll(session.userId, {
      exceptSessionId: session.sessionId,
      reason: 'password_changed',
      actorId: session.userId,
    });
  }
}

import { Body, Controller, HttpCode, Post, UsePipes, ValidationPipe } from '@nestjs/common';
import { CurrentSession, FreshSession, InvalidCredentialsError, SessionService } from '../session';
import type { AuthenticatedSession } from '../session';
import { UsersService } from '../users/users.service';
import { ChangePasswordDto } from './dto/change-password.dto';

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
  @HttpCode(204)
  @FreshSession(600)
  @UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
  async change(@CurrentSession() session: AuthenticatedSession, @Body() body: ChangePasswordDto): Promise<void> {
    const changed = await this.users.changePassword(session.userId, body.currentPassword, body.newPassword);
    if (!changed) throw new InvalidCredentialsError();
    await this.sessions.revokeAll(session.userId, {
      exceptSessionId: session.sessionId,
      reason: 'password_changed',
    });
  }
}

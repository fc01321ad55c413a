import { Controller, Get, UseGuards } from '@nestjs/common';
import { CurrentSession, CurrentUser, Public, Roles, RolesGuard, SessionAuthGuard } from 'nest-session-module';
import type { AuthenticatedSession, CurrentUserInfo } from 'nest-session-module';

/** Guarded by the module's guards named on the controller: works with and without the global guard. */
@Controller('guarded')
@UseGuards(SessionAuthGuard, RolesGuard)
export class GuardedController {
  @Get('mine')
  mine(@CurrentUser() user: CurrentUserInfo) {
    return { userId: user.id };
  }

  @Get('open')
  @Public()
  open() {
    return { open: true };
  }

  @Get('admin')
  @Roles('admin')
  admin(@CurrentSession() session: AuthenticatedSession) {
    return { sessionId: session.sessionId };
  }
}

/** No guard named: protected only when the app asked for the global guard. */
@Controller('plain')
export class PlainController {
  @Get('mine')
  mine(@CurrentUser() user: CurrentUserInfo | undefined) {
    return { userId: user?.id ?? null };
  }

  @Get('open')
  @Public()
  open() {
    return { open: true };
  }

  @Get('admin')
  @Roles('admin')
  admin(@CurrentUser() user: CurrentUserInfo | undefined) {
    return { userId: user?.id ?? null };
  }
}

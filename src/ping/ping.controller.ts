import { Controller, Get } from '@nestjs/common';
import { CurrentUser, CurrentUserInfo, Public } from '../session';

@Controller('ping')
export class PingController {
  @Get()
  @Public()
  ping() {
    return { ok: true };
  }

  @Get('secure')
  secure(@CurrentUser() user: CurrentUserInfo) {
    return { ok: true, userId: user.id };
  }
}
